"""The after-sale backend for returns: tabs with counts, the record with photos, history and
deadline, and the buttons of each step (同意 / 确认收货并退款 with 退回库存 / 拒绝收货 / 留言)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import AfterSale, OrderSettings
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.testing import make_staff

from .backend import login, make_order, pay, set_return_address, texts, url

# Photos land in this test's own folder (public media and the private evidence store).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]


def photo():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buffer, format="JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


def shipped_return(status="requested"):
    set_return_address()
    order = pay(make_order(prices=(3000,), quantity=2))
    lifecycle.ship(order, make_staff("shipper"), carrier="shunfeng", tracking_number="SF123456")
    sale = after_sales.request_after_sale(
        order,
        order.buyer,
        kind="return_refund",
        reason_code="not_as_described",
        description="颜色和图片差很多",
        lines=[{"line_id": order.lines.get().pk, "quantity": 2}],
        images=[photo()],
    )
    if status in ("awaiting_return", "return_shipped"):
        after_sales.approve(sale, None)
    if status == "return_shipped":
        after_sales.ship_back(sale, order.buyer, carrier="yuantong", tracking_number="YT0099887766")
    sale.refresh_from_db()
    return sale


def page(client, sale, action=None):
    response = client.get(url(sale, action))
    assert response.status_code == 200
    return response.content.decode()


def test_list_tabs_count_each_step(boss, django_assert_max_num_queries):
    shipped_return()
    shipped_return("awaiting_return")
    shipped_return("return_shipped")
    changelist = reverse("admin:orders_aftersale_changelist")
    with django_assert_max_num_queries(20):
        html = boss.get(changelist).content.decode()
    for text in (
        '待处理<span class="text-base-500">1',
        '待买家退货<span class="text-base-500">1',
        '待收货<span class="text-base-500">1',
    ):
        assert text in html
    html = boss.get(changelist + "?status__in=return_shipped").content.decode()
    assert "待商家收货" in html and html.count("AS20") == 1


def test_request_shows_photos_deadline_and_approve_asks_for_a_return(boss):
    sale = shipped_return()
    html = page(boss, sale)
    photo_url = sale.images.get().url
    assert "颜色和图片差很多" in html and "after-sale-evidence" in html and photo_url in html
    assert boss.get(photo_url)["Content-Type"] == "image/jpeg"
    assert "商家处理期限，逾期系统自动同意" in html
    assert "同意退货，等待买家寄回" in page(boss, sale, "approve")
    response = boss.post(url(sale, "approve"), {})
    assert response.status_code == 302, texts(response)
    sale.refresh_from_db()
    assert sale.status == "awaiting_return"
    assert "买家寄回期限，逾期售后自动关闭" in page(boss, sale)


def test_receive_with_restock_refunds(boss):
    sale = shipped_return("return_shipped")
    html = page(boss, sale)
    assert "确认收货并退款" in html and "拒绝收货" in html and "圆通速递 YT0099887766" in html
    sku = Sku.objects.get(pk=sale.order.lines.get().sku_id)
    before = sku.stock
    assert "退回库存" in page(boss, sale, "receive")
    response = boss.post(url(sale, "receive"), {"restock": "on"})
    assert response.status_code == 302, texts(response)
    sale.refresh_from_db()
    assert sale.status == "refunded"
    assert Sku.objects.get(pk=sku.pk).stock == before + 2
    again = boss.post(url(sale, "receive"), {"restock": "on"})
    assert again.status_code == 200 and texts(again)  # already done: refused, nothing twice
    assert Sku.objects.get(pk=sku.pk).stock == before + 2


def test_receive_without_restock(boss):
    sale = shipped_return("return_shipped")
    sku = Sku.objects.get(pk=sale.order.lines.get().sku_id)
    before = sku.stock
    boss.post(url(sale, "receive"), {})
    sale.refresh_from_db()
    assert (sale.status, sale.restock, Sku.objects.get(pk=sku.pk).stock) == ("refunded", False, before)


def test_refuse_receipt_needs_a_reason(boss):
    sale = shipped_return("return_shipped")
    assert boss.post(url(sale, "refuse-receipt"), {"reason": " "}).status_code == 200
    assert AfterSale.objects.get(pk=sale.pk).status == "return_shipped"
    response = boss.post(url(sale, "refuse-receipt"), {"reason": "商品已使用，影响二次销售"})
    assert response.status_code == 302
    sale.refresh_from_db()
    assert (sale.status, sale.reject_reason) == ("rejected", "商品已使用，影响二次销售")
    assert "商家拒绝收货：商品已使用，影响二次销售" in page(boss, sale)


def test_staff_message_shows_in_history(boss):
    sale = shipped_return("awaiting_return")
    response = boss.post(url(sale, "message"), {"message": "请附上原包装一起寄回"})
    assert response.status_code == 302
    html = page(boss, sale)
    assert "请附上原包装一起寄回" in html and "同意退货，请在7天内寄回" in html


def test_return_actions_need_permission():
    sale = shipped_return("return_shipped")
    viewer = login(make_staff("viewer", perms=["orders.view_aftersale", "orders.view_order"]))
    assert viewer.get(url(sale)).status_code == 200
    for action, data in (
        ("receive", {"restock": "on"}),
        ("refuse-receipt", {"reason": "x"}),
        ("message", {"message": "x"}),
    ):
        assert viewer.post(url(sale, action), data).status_code == 403
    assert AfterSale.objects.get(pk=sale.pk).status == "return_shipped"


def test_order_settings_return_address_and_deadlines(boss):
    settings = OrderSettings.current()
    data = {
        "payment_timeout_minutes": "30",
        "auto_complete_days": "7",
        "signed_auto_complete_days": "3",
        "after_sale_days": "15",
        "shipping_fee": "0",
        "free_shipping_threshold": "0",
        "low_stock_threshold": "10",
        "after_sale_respond_days": "3",
        "return_ship_days": "5",
        "return_receive_days": "0",
        "return_recipient": "退货组",
        "return_phone": "0571-88880000",
        "return_address": "杭州市余杭区文一西路 1 号",
    }
    html = boss.get(url(settings)).content.decode()
    assert "买家退货期限（天）" in html and "退货地址" in html
    assert boss.post(url(settings), data).status_code == 302
    settings.refresh_from_db()
    assert (settings.return_ship_days, settings.return_receive_days, settings.return_address_text) == (
        5,
        0,
        "退货组 0571-88880000 杭州市余杭区文一西路 1 号",
    )
    for field, value in (
        ("return_ship_days", "0"),
        ("return_ship_days", "31"),
        ("after_sale_respond_days", "-1"),
        ("return_phone", "打电话"),
    ):
        assert boss.post(url(settings), {**data, field: value}).status_code == 200
    settings.refresh_from_db()
    assert settings.return_ship_days == 5
