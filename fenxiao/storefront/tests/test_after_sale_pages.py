"""The H5 after-sale pages: the request with reason, description and photos; the detail with
status, countdown, return address, the ship-back form and the history with messages."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from fenxiao.customers.models import Address
from fenxiao.orders.models import AfterSale, OrderSettings
from fenxiao.orders.services import after_sales, checkout, lifecycle
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def photo(fmt="JPEG"):
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), "green").save(buffer, format=fmt)
    return SimpleUploadedFile(f"p.{fmt.lower()}", buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def shipped_order(buyer):
    sku = make_product("羊毛围巾", price=5900, stock=10).skus.get()
    address = Address.objects.filter(user=buyer).first() or make_address(buyer)
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk)
    pay_in_sandbox(order)
    lifecycle.ship(order, make_staff("shipper"), carrier="shunfeng", tracking_number="SF10001")
    return order


def test_buyer_requests_a_return_with_reason_description_and_photos():
    buyer = make_buyer()
    order = shipped_order(buyer)
    client = signed_in(buyer)
    form = client.get(f"/orders/{order.number}/after-sale/").content.decode()
    assert "退货退款" in form and "商品质量问题" in form and 'name="images"' in form
    line = order.lines.get()
    reply = client.post(
        f"/orders/{order.number}/after-sale/",
        {
            "kind": "return_refund",
            "reason_code": "quality",
            "description": "起球很严重",
            f"line_{line.pk}": "1",
            f"qty_{line.pk}": "1",
            "images": [photo(), photo("PNG")],
        },
    )
    sale = AfterSale.objects.get(order=order)
    assert (
        reply.status_code == 302 and reply["Location"] == f"/orders/{order.number}/after-sales/{sale.number}/"
    )
    page = client.get(reply["Location"]).content.decode()
    assert "待商家处理" in page and "起球很严重" in page and "商品质量问题" in page
    assert page.count('alt="凭证图片"') == 2
    assert re.search(r"商家将在 1 天 23 小时 内处理", page)
    # A file that is not a picture is refused and nothing is written.
    other = shipped_order(buyer)
    bad = client.post(
        f"/orders/{other.number}/after-sale/",
        {
            "kind": "refund_only",
            "reason_code": "quality",
            f"line_{other.lines.get().pk}": "1",
            "images": [SimpleUploadedFile("x.jpg", b"MZ\x90\x00 not a jpeg", content_type="image/jpeg")],
        },
    )
    assert bad.status_code == 400 and "图片格式有误" in bad.content.decode()
    assert not AfterSale.objects.filter(order=other).exists()


def test_buyer_ships_back_from_the_detail_page():
    rules = OrderSettings.current()
    rules.return_recipient, rules.return_phone, rules.return_address = (
        "售后组",
        "0571-88001234",
        "杭州市西湖区退货仓 8 号",
    )
    rules.save()
    buyer = make_buyer()
    order = shipped_order(buyer)
    sale = after_sales.request_after_sale(
        order,
        buyer,
        kind="return_refund",
        reason_code="wrong_item",
        lines=[{"line_id": order.lines.get().pk}],
    )
    after_sales.approve(sale, make_staff("boss"))
    client = signed_in(buyer)
    url = f"/orders/{order.number}/after-sales/{sale.number}/"
    page = client.get(url).content.decode()
    assert "待买家退货" in page and "请在 6 天 23 小时 内寄回商品" in page
    assert "售后组" in page and "0571-88001234" in page and "杭州市西湖区退货仓 8 号" in page
    assert "提交退货物流" in page and "中通快递" in page
    # A bad tracking number: refused, what was chosen stays.
    reply = client.post(url + "ship-back/", {"carrier": "yunda", "tracking_number": "1"}, follow=True)
    html = reply.content.decode()
    assert "运单号应为6–40位字母或数字" in html and 'value="yunda" selected' in html
    assert AfterSale.objects.get(pk=sale.pk).status == "awaiting_return"
    reply = client.post(
        url + "ship-back/", {"carrier": "yunda", "tracking_number": "4318000123456"}, follow=True
    )
    html = reply.content.decode()
    assert (
        "待商家收货" in html and "韵达快递" in html and "4318000123456" in html and "提交退货物流" not in html
    )
    assert "撤销申请" not in html
    # The order page links to the after-sale.
    assert url in client.get(f"/orders/{order.number}/").content.decode()


def test_messages_with_photos_and_strangers_see_nothing():
    buyer = make_buyer()
    order = shipped_order(buyer)
    sale = after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason_code="damaged", lines=[{"line_id": order.lines.get().pk}]
    )
    client = signed_in(buyer)
    url = f"/orders/{order.number}/after-sales/{sale.number}/"
    reply = client.post(url + "message/", {"message": "外箱也压扁了", "images": [photo()]}, follow=True)
    html = reply.content.decode()
    assert "外箱也压扁了" in html and 'alt="图片"' in html
    after_sales.add_message(sale, make_staff("boss"), message="已核实，马上处理")
    assert "已核实，马上处理" in client.get(url).content.decode()
    stranger = signed_in(make_buyer())
    assert stranger.get(url).status_code == 404
    assert (
        stranger.post(
            url + "ship-back/", {"carrier": "yunda", "tracking_number": "4318000123456"}
        ).status_code
        == 404
    )
    assert stranger.post(url + "message/", {"message": "hi"}).status_code == 404


def test_detail_page_has_a_fixed_query_count(django_assert_max_num_queries):
    buyer = make_buyer()
    order = shipped_order(buyer)
    sale = after_sales.request_after_sale(
        order,
        buyer,
        kind="refund_only",
        reason_code="damaged",
        lines=[{"line_id": order.lines.get().pk}],
        images=[photo()],
    )
    for n in range(5):
        after_sales.add_message(sale, buyer, message=f"第{n}条", images=[photo()])
    client = signed_in(buyer)
    with django_assert_max_num_queries(16):
        assert client.get(f"/orders/{order.number}/after-sales/{sale.number}/").status_code == 200
