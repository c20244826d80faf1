"""A finished after-sale (refunded, closed, rejected, withdrawn) takes no more buyer messages
or photos: the H5 hides the box in those states, and the API and the form post refuse the
same way, with nothing written. Staff may still leave a note, which the buyer reads."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from fenxiao.orders.models import AfterSale, AfterSaleImage, AfterSaleLog, Order, OrderSettings
from fenxiao.orders.services import after_sale_sweep
from fenxiao.orders.tests.test_after_sales import approve, place_paid_order, ship
from fenxiao.testing import api_for, assert_refused, login, make_buyer, make_product, make_staff

# Photos land in this test's own folder (public media and the private evidence store).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]


@pytest.fixture
def staff():
    return api_for(make_staff(perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]))


@pytest.fixture(autouse=True)
def return_address():
    settings = OrderSettings.current()
    settings.return_recipient, settings.return_phone = "王仓管", "13800000000"
    settings.return_address = "浙江省杭州市余杭区仓前街道 1 号退货仓"
    settings.save()


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def upload(client, path, data):
    return client.client.post("/api/v1" + path, data, **client._headers())


def returned(staff, kind="return_refund"):
    """A shipped order and the buyer's request on its one line: (buyer, api, order, after-sale)."""
    buyer = make_buyer()
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)], buyer=buyer)
    ship(staff, number)
    line = Order.objects.get(number=number).lines.get()
    reply = client.post(
        f"/orders/{number}/after-sales",
        {"kind": kind, "reason_code": "quality", "lines": [{"line_id": line.pk, "quantity": 1}]},
    )
    assert reply.status_code == 201, reply.content
    return buyer, client, number, reply.json()["number"]


def refunded(staff, client, sale):
    approve(staff, sale)


def rejected(staff, client, sale):
    reply = staff.post(f"/staff/after-sales/{sale}/reject", {"reason": "商品已使用，不支持退货"})
    assert reply.status_code == 200, reply.content


def withdrawn(staff, client, sale):
    assert client.post(f"/after-sales/{sale}/withdraw").status_code == 200


def closed(staff, client, sale):
    """Approved as a return, never shipped back: the sweep closes it."""
    approve(staff, sale)
    days = OrderSettings.current().return_ship_days
    assert after_sale_sweep.sweep_deadlines(timezone.now() + timedelta(days=days, minutes=1))["closed"] == 1


ENDINGS = {"refunded": refunded, "rejected": rejected, "withdrawn": withdrawn, "closed": closed}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_finished_after_sale_refuses_the_buyers_message_and_photos(staff, ending):
    kind = "refund_only" if ending == "refunded" else "return_refund"
    buyer, client, number, sale = returned(staff, kind)
    ENDINGS[ending](staff, client, sale)
    assert AfterSale.objects.get(number=sale).status == ending
    assert not AfterSale.objects.get(number=sale).is_open  # what hides the H5's box
    logs = AfterSaleLog.objects.count()

    body = assert_refused(
        upload(client, f"/after-sales/{sale}/messages", {"message": "还在吗？"}), 409, "AFTER_SALE_FINISHED"
    )
    assert body["message"] == "该售后已结束，不能再留言或补充凭证"
    assert_refused(
        upload(client, f"/after-sales/{sale}/evidence", {"images": [png()]}), 409, "AFTER_SALE_FINISHED"
    )
    # An old H5 page still showing the box posts to the same rule and reads the refusal.
    page = login(buyer)
    posted = page.post(
        reverse("storefront:after_sale_message", args=[number, sale]), {"message": "还在吗？"}, follow=True
    )
    assert posted.status_code == 200
    assert "该售后已结束，不能再留言或补充凭证" in posted.content.decode()
    assert AfterSaleLog.objects.count() == logs
    assert AfterSaleImage.objects.count() == 0

    # The merchant may still write to the buyer after the end (e.g. "退款已原路退回").
    reply = staff.post(f"/staff/after-sales/{sale}/messages", {"message": "如有问题请联系客服"})
    assert reply.status_code == 201, reply.content
    assert client.get(f"/after-sales/{sale}").json()["logs"][-1]["message"] == "如有问题请联系客服"


def test_an_open_after_sale_still_takes_the_buyers_message(staff):
    _buyer, client, number, sale = returned(staff)
    approve(staff, sale)  # 待买家退货: open, the buyer may still talk
    assert AfterSale.objects.get(number=sale).status == "awaiting_return"
    reply = upload(client, f"/after-sales/{sale}/messages", {"message": "这周末寄回", "images": [png()]})
    assert reply.status_code == 201, reply.content
    assert client.get(f"/after-sales/{sale}").json()["logs"][-1]["message"] == "这周末寄回"


def test_the_refusal_reads_in_english_for_an_english_buyer(staff):
    _buyer, client, number, sale = returned(staff, "refund_only")
    approve(staff, sale)
    reply = client.client.post(
        f"/api/v1/after-sales/{sale}/messages",
        {"message": "hi"},
        HTTP_ACCEPT_LANGUAGE="en",
        **client._headers(),
    )
    assert reply.status_code == 409
    assert reply.json() == {
        "code": "AFTER_SALE_FINISHED",
        "message": "This after-sale has ended; no more messages or photos can be added",
    }
