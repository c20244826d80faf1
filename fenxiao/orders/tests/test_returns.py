"""Returns (退货退款) wait for the goods: approve → the buyer ships back → staff receive
(optionally restock) → refund; refused receipt, withdrawal, reasons, photos, messages, and
the deadlines on both sides run by the sweep."""

import io
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from fenxiao.customers.models import WalletEntry
from fenxiao.customers.services import wallet
from fenxiao.notices.models import Message
from fenxiao.orders.models import (
    AfterSale,
    AfterSaleImage,
    AfterSaleLog,
    Order,
    OrderEvent,
    OrderLine,
    OrderSettings,
)
from fenxiao.orders.services import after_sale_sweep, after_sales
from fenxiao.orders.tests.test_after_sales import approve, place_paid_order, ship, stock
from fenxiao.orders.tests.test_wallet import checkout, pay_rest, top_up
from fenxiao.payments.models import Refund
from fenxiao.testing import api_for, assert_refused, make_buyer, make_product, make_staff

# Photos land in this test's own folder (public media and the private evidence store).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]


@pytest.fixture
def staff():
    return api_for(make_staff(perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]))


@pytest.fixture(autouse=True)
def rules():
    settings = OrderSettings.current()
    settings.return_recipient, settings.return_phone = "王仓管", "13800000000"
    settings.return_address = "浙江省杭州市余杭区仓前街道 1 号退货仓"
    settings.save()
    return settings


def shipped_order(staff, quantity=3, price=4000):
    sku = make_product(price=price, stock=10).skus.get()
    client, number = place_paid_order([(sku, quantity)])
    ship(staff, number)
    return client, number, sku, Order.objects.get(number=number).lines.get()


def ask_return(client, number, line, quantity, **extra):
    body = {
        "kind": "return_refund",
        "reason_code": "quality",
        "lines": [{"line_id": line.pk, "quantity": quantity}],
    }
    reply = client.post(f"/orders/{number}/after-sales", {**body, **extra})
    assert reply.status_code == 201, reply.content
    return reply.json()["number"]


def ship_back(client, number, carrier="zhongtong", tracking="ZT7788990011"):
    return client.post(f"/after-sales/{number}/ship-back", {"carrier": carrier, "tracking_number": tracking})


def status(number):
    return AfterSale.objects.get(number=number).status


def history(client, number):
    reply = client.get(f"/after-sales/{number}")
    assert reply.status_code == 200, reply.content
    return reply.json()


def upload(client, path, data):
    """A multipart call to the API (photos), as a phone's form would send it."""
    return client.client.post("/api/v1" + path, data, **client._headers())


def png(size=(40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


# --- the paths -------------------------------------------------------------------------------


def test_refund_only_stays_one_step(staff):
    client, number, sku, line = shipped_order(staff, quantity=2)
    reply = client.post(
        f"/orders/{number}/after-sales",
        {"kind": "refund_only", "reason_code": "missing", "lines": [{"line_id": line.pk, "quantity": 1}]},
    )
    assert reply.json()["reason"] == "少件/漏发"
    assert approve(staff, reply.json()["number"])["status"] == "refunded"
    assert Order.objects.get(number=number).refunded_amount == 4000
    assert [log["kind"] for log in history(client, reply.json()["number"])["logs"]] == [
        "requested",
        "approved",
        "refunded",
    ]


def test_return_waits_for_the_goods_then_refunds_with_restock(staff, rules):
    client, number, sku, line = shipped_order(staff)
    sale = ask_return(client, number, line, 2, description="拉链坏了，第二次拉就掉了")
    approved = approve(staff, sale)
    assert approved["status"] == "awaiting_return"
    assert Order.objects.get(number=number).refunded_amount == 0
    assert Refund.objects.count() == 0  # nothing paid back before the goods arrive
    notice = Message.objects.get(kind="after_sale_approved")
    assert "7 天内寄回" in notice.body and "王仓管" in notice.body
    detail = history(client, sale)
    assert detail["return_address"] == "王仓管 13800000000 浙江省杭州市余杭区仓前街道 1 号退货仓"
    assert detail["deadline"] is not None

    shipped = ship_back(client, sale, carrier="中通", tracking="ZT 7788 9900 11")
    assert shipped.status_code == 200, shipped.content
    body = shipped.json()
    assert (
        body["status"],
        body["status_display"],
        body["return_carrier"],
        body["return_tracking_number"],
    ) == (
        "return_shipped",
        "待商家收货",
        "zhongtong",
        "ZT7788990011",
    )
    assert_refused(client.post(f"/after-sales/{sale}/withdraw"), 409, "INVALID_STATE_TRANSITION")

    received = staff.post(f"/staff/after-sales/{sale}/receive", {"restock": True})
    assert received.json()["status"] == "refunded", received.content
    order = Order.objects.get(number=number)
    assert (order.refunded_amount, stock(sku)) == (8000, 9)
    assert OrderLine.objects.get(pk=line.pk).refunded_quantity == 2
    assert Message.objects.filter(kind="refund_done").count() == 1
    kinds = [log["kind"] for log in history(client, sale)["logs"]]
    assert kinds == ["requested", "approved", "shipped_back", "received", "refunded"]
    events = list(order.events.values_list("kind", flat=True))
    assert events[-4:] == [
        "after_sale_approved",
        "after_sale_shipped_back",
        "after_sale_received",
        "refunded",
    ]


def test_return_received_without_restock_keeps_stock(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    approve(staff, sale)
    ship_back(client, sale)
    staff.post(f"/staff/after-sales/{sale}/receive", {"restock": False})
    assert status(sale) == "refunded"
    assert stock(sku) == 9  # sold one, the damaged one stays off sale
    assert AfterSale.objects.get(number=sale).restock is False


def test_return_refund_goes_back_to_wallet_and_gateway_in_proportion(staff):
    buyer = make_buyer()
    top_up(buyer, 3000)
    sku = make_product(price=10000, stock=5).skus.get()
    number = checkout(buyer, sku, use_wallet=True)["number"]
    pay_rest(buyer, number)
    ship(staff, number)
    client = api_for(buyer)
    line = Order.objects.get(number=number).lines.get()
    sale = ask_return(client, number, line, 1)
    approve(staff, sale)
    assert wallet.balance(buyer.pk) == 0  # nothing back before the goods
    ship_back(client, sale)
    staff.post(f"/staff/after-sales/{sale}/receive", {"restock": True})
    order = Order.objects.get(number=number)
    assert (order.refunded_amount, order.wallet_refunded, wallet.balance(buyer.pk)) == (10000, 3000, 3000)
    assert list(Refund.objects.filter(after_sale__number=sale).values_list("amount", flat=True)) == [7000]
    assert status(sale) == "refunded"
    assert WalletEntry.objects.filter(user=buyer, amount=3000).count() == 2  # top-up, refund


def test_refused_receipt_rejects_and_frees_the_lines(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    approve(staff, sale)
    assert_refused(
        staff.post(f"/staff/after-sales/{sale}/receive", {"restock": True}), 409, "INVALID_STATE_TRANSITION"
    )
    ship_back(client, sale)
    assert_refused(
        staff.post(f"/staff/after-sales/{sale}/refuse-receipt", {"reason": " "}), 400, "AFTER_SALE_INVALID"
    )
    reply = staff.post(f"/staff/after-sales/{sale}/refuse-receipt", {"reason": "寄回的不是本店商品"})
    assert (reply.json()["status"], reply.json()["reject_reason"]) == ("rejected", "寄回的不是本店商品")
    assert Order.objects.get(number=number).refunded_amount == 0
    assert Refund.objects.count() == 0
    assert history(client, sale)["logs"][-1]["message"] == "商家拒绝收货：寄回的不是本店商品"
    # Back to negotiating: the buyer may ask again for the same line.
    ask_return(client, number, line, 1, reason_code="other", description="已重新寄回正确的商品")


def test_reject_only_while_requested(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    approve(staff, sale)
    assert_refused(
        staff.post(f"/staff/after-sales/{sale}/reject", {"reason": "不同意"}), 409, "INVALID_STATE_TRANSITION"
    )
    assert status(sale) == "awaiting_return"


def test_buyer_withdraws_before_shipping_back(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    approve(staff, sale)
    assert client.post(f"/after-sales/{sale}/withdraw").json()["status"] == "withdrawn"
    assert_refused(ship_back(client, sale), 409, "INVALID_STATE_TRANSITION")
    ask_return(client, number, line, 1)  # the line is free again


def test_ship_back_is_checked(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    assert_refused(ship_back(client, sale), 409, "INVALID_STATE_TRANSITION")  # not approved yet
    approve(staff, sale)
    assert_refused(ship_back(client, sale, carrier="不存在的快递"), 400, "RETURN_SHIPMENT_INVALID")
    assert_refused(ship_back(client, sale, tracking="12"), 400, "RETURN_SHIPMENT_INVALID")
    assert_refused(ship_back(client, sale, tracking="SF<script>1234"), 400, "RETURN_SHIPMENT_INVALID")
    other = api_for(make_buyer())
    assert_refused(ship_back(other, sale), 404, "AFTER_SALE_NOT_FOUND")
    assert status(sale) == "awaiting_return"


def test_return_refund_never_above_paid(staff):
    client, number, sku, line = shipped_order(staff, quantity=2)
    too_much = {
        "kind": "return_refund",
        "reason_code": "quality",
        "lines": [{"line_id": line.pk, "quantity": 2, "amount": 8001}],
    }
    assert_refused(client.post(f"/orders/{number}/after-sales", too_much), 400, "REFUND_EXCEEDS_PAID")
    sale = ask_return(client, number, line, 2)
    approve(staff, sale)
    # While the goods travel the line stays taken: no second refund of the same money.
    again = staff.post(
        f"/staff/orders/{number}/refunds",
        {"kind": "refund_only", "reason": "补偿", "lines": [{"line_id": line.pk, "amount": 100}]},
    )
    assert_refused(again, 409, "AFTER_SALE_ALREADY_OPEN")
    ship_back(client, sale)
    staff.post(f"/staff/after-sales/{sale}/receive", {"restock": True})
    order = Order.objects.get(number=number)
    assert order.refunded_amount == order.paid_amount - order.shipping_fee == 8000
    assert sum(Refund.objects.values_list("amount", flat=True)) == 8000
    after = client.post(
        f"/orders/{number}/after-sales",
        {"kind": "refund_only", "reason_code": "quality", "lines": [{"line_id": line.pk, "amount": 1}]},
    )
    assert_refused(after, 400, "REFUND_EXCEEDS_PAID")


def test_reasons_come_from_the_list(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    lines = [{"line_id": line.pk, "quantity": 1}]
    for code in ("bogus", "not_received"):  # unknown; a return needs the goods in hand
        reply = client.post(
            f"/orders/{number}/after-sales", {"kind": "return_refund", "reason_code": code, "lines": lines}
        )
        assert_refused(reply, 400, "AFTER_SALE_INVALID")
    reply = client.post(f"/orders/{number}/after-sales", {"kind": "return_refund", "lines": lines})
    assert_refused(reply, 400, "AFTER_SALE_INVALID")  # no reason at all
    assert AfterSale.objects.count() == 0


# --- photos and messages ---------------------------------------------------------------------


def test_a_message_with_a_nul_is_refused_and_writes_nothing(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    logs = AfterSaleLog.objects.count()
    for data in ({"message": "x\x00"}, {"message": "ok", "images": [png()], "note\x00": "1"}):
        assert_refused(upload(client, f"/after-sales/{sale}/messages", data), 400, "INVALID_CHARACTERS")
    assert AfterSaleLog.objects.count() == logs


def test_photos_and_messages_make_the_history(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    reply = upload(client, f"/after-sales/{sale}/evidence", {"images": [png(), png()]})
    assert reply.status_code == 201, reply.content
    assert len(reply.json()["images"]) == 2
    reply = upload(client, f"/after-sales/{sale}/messages", {"message": "包装盒也压坏了"})
    assert reply.status_code == 201, reply.content
    staff.post(f"/staff/after-sales/{sale}/messages", {"message": "收到，请一并寄回"})
    logs = history(client, sale)["logs"]
    assert [(log["actor_kind"], log["message"]) for log in logs[1:]] == [
        ("buyer", "补充凭证"),
        ("buyer", "包装盒也压坏了"),
        ("staff", "收到，请一并寄回"),
    ]
    assert len(history(client, sale)["images"]) == 2
    assert all(item.image.name.endswith(".png") for item in AfterSaleImage.objects.all())


def test_photos_are_private_and_open_only_through_their_signed_links(staff, settings, tmp_path):
    from django.test import Client

    from fenxiao.core import private_files

    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    sent = png()
    url = upload(client, f"/after-sales/{sale}/evidence", {"images": [sent]}).json()["images"][0]
    assert url == history(client, sale)["images"][0] and url.startswith("/files/")
    # Anyone holding the link the buyer's answer carried opens the photo, as it was sent.
    sent.seek(0)
    opened = Client().get(url)
    assert opened.status_code == 200 and opened["Content-Type"] == "image/png"
    assert b"".join(opened.streaming_content) == sent.read()
    assert opened["Cache-Control"] == "private, max-age=3600"
    # Nothing of it is in the public media; a link altered, or past its hours, opens nothing.
    name = AfterSaleImage.objects.get().image.name
    assert not (tmp_path / "media").exists() or not list((tmp_path / "media").rglob("*.png"))
    assert Client().get(f"/media/{name}").status_code == 404
    token = url.removeprefix("/files/")
    assert Client().get(f"/files/{token[:-2]}xx").status_code == 404
    assert Client().get(private_files.url(name, now=time.time() - 2 * 3600)).status_code == 404
    assert Client().get(private_files.url("../../settings.py")).status_code == 404


def test_bad_photos_are_refused_with_nothing_written(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    fake = SimpleUploadedFile("photo.png", b"<html>not an image</html>", content_type="image/png")
    assert_refused(
        upload(client, f"/after-sales/{sale}/evidence", {"images": [png(), fake]}),
        400,
        "AFTER_SALE_IMAGE_INVALID",
    )
    assert_refused(
        upload(client, f"/after-sales/{sale}/evidence", {"images": [png() for _ in range(7)]}),
        400,
        "AFTER_SALE_IMAGE_INVALID",
    )
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    gif = SimpleUploadedFile("a.gif", gif.getvalue(), content_type="image/gif")
    assert_refused(
        upload(client, f"/after-sales/{sale}/evidence", {"images": [gif]}), 400, "AFTER_SALE_IMAGE_INVALID"
    )
    assert AfterSaleImage.objects.count() == 0
    assert len(history(client, sale)["logs"]) == 1
    other = api_for(make_buyer())
    assert_refused(
        upload(other, f"/after-sales/{sale}/evidence", {"images": [png()]}), 404, "AFTER_SALE_NOT_FOUND"
    )


# --- deadlines -------------------------------------------------------------------------------


def later(days):
    return timezone.now() + timedelta(days=days, minutes=1)


def test_buyer_never_ships_back_and_the_request_closes(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    approve(staff, sale)
    assert after_sale_sweep.sweep_deadlines(later(6))["closed"] == 0
    assert after_sale_sweep.sweep_deadlines(later(7)) == {"closed": 1, "approved": 0, "received": 0}
    assert history(client, sale)["status_display"] == "已关闭"
    assert Message.objects.get(kind="after_sale_closed").link == f"/orders/{number}/after-sales/{sale}/"
    assert OrderEvent.objects.filter(kind="after_sale_closed").count() == 1
    assert_refused(ship_back(client, sale), 409, "INVALID_STATE_TRANSITION")
    # The second run finds nothing left to do.
    assert after_sale_sweep.sweep_deadlines(later(7)) == {"closed": 0, "approved": 0, "received": 0}
    assert OrderEvent.objects.filter(kind="after_sale_closed").count() == 1
    ask_return(client, number, line, 1)  # the line is free again


def test_merchant_silent_return_is_auto_approved(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    assert after_sale_sweep.sweep_deadlines(later(1))["approved"] == 0
    assert after_sale_sweep.sweep_deadlines(later(2))["approved"] == 1
    assert status(sale) == "awaiting_return"
    assert "超时未处理，系统自动同意退货" in history(client, sale)["logs"][-1]["message"]
    assert Refund.objects.count() == 0
    assert after_sale_sweep.sweep_deadlines(later(2))["approved"] == 0  # acts once


def test_merchant_silent_refund_only_is_auto_approved_and_refunded(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    reply = client.post(
        f"/orders/{number}/after-sales",
        {"kind": "refund_only", "reason_code": "not_received", "lines": [{"line_id": line.pk}]},
    )
    sale = reply.json()["number"]
    assert after_sale_sweep.sweep_deadlines(later(2))["approved"] == 1
    assert status(sale) == "refunded"
    assert Order.objects.get(number=number).refunded_amount == 4000
    assert after_sale_sweep.sweep_deadlines(later(2))["approved"] == 0
    assert Refund.objects.count() == 1


def test_no_auto_approval_when_switched_off(staff):
    rules = OrderSettings.current()
    rules.after_sale_respond_days = 0
    rules.save()
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    assert AfterSale.objects.get(number=sale).deadline is None
    assert after_sale_sweep.sweep_deadlines(later(30))["approved"] == 0
    assert status(sale) == "requested"


def test_receipt_not_confirmed_is_auto_received_and_refunded(staff):
    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = ask_return(client, number, line, 1)
    approve(staff, sale)
    ship_back(client, sale)
    assert after_sale_sweep.sweep_deadlines(later(9))["received"] == 0
    assert after_sale_sweep.sweep_deadlines(later(10))["received"] == 1
    assert status(sale) == "refunded"
    # Granted when received (the reports count the refund then), by the system.
    received = AfterSale.objects.get(number=sale)
    assert (received.decided_at, received.decided_by) == (received.received_at, None)
    assert stock(sku) == 9  # nobody checked the parcel: not restocked
    assert Order.objects.get(number=number).refunded_amount == 4000
    assert after_sale_sweep.sweep_deadlines(later(10))["received"] == 0
    assert Refund.objects.count() == 1


def test_open_return_keeps_commission_and_shipping_blocked(staff):
    from fenxiao.orders.models import OPEN_AFTER_SALE

    assert {"requested", "awaiting_return", "return_shipped", "approved"} == set(OPEN_AFTER_SALE)


def test_an_open_return_keeps_commission_frozen_until_it_ends():
    from fenxiao.distribution.services import settlement
    from fenxiao.distribution.tests.helpers import bound_buyer, buy, make_distributor, receive, sku, statuses

    distributor = make_distributor()
    lamp = make_product(price=10000, stock=10)
    start = timezone.now()
    order = receive(buy(bound_buyer(distributor), (sku(lamp), 1)))
    sale = after_sales.request_after_sale(
        order,
        order.buyer,
        kind="return_refund",
        reason_code="quality",
        lines=[{"line_id": order.lines.get().pk}],
    )
    after_sales.approve(sale, make_staff("boss"))
    after_sales.ship_back(sale, order.buyer, carrier="yunda", tracking_number="4318000000077")
    # Freeze over, but the goods are on their way back: nothing settles.
    assert settlement.settle_due(start + timedelta(days=30)) is None
    assert statuses(order) == {"frozen"}
    after_sales.refuse_receipt(sale, make_staff("boss"), reason="寄回的是空盒")
    assert settlement.settle_due(start + timedelta(days=30)).commission_count == 1
    assert statuses(order) == {"settled"}


def test_photos_uploaded_before_move_from_public_media_to_the_private_storage(staff, tmp_path):
    import importlib

    from django.apps import apps
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages
    from django.test import Client

    client, number, sku, line = shipped_order(staff, quantity=1)
    sale = AfterSale.objects.get(number=ask_return(client, number, line, 1))
    public = storages["default"]
    name = public.save("after_sales/202611/0123456789abcdef.png", ContentFile(b"old photo"))
    AfterSaleImage.objects.bulk_create([AfterSaleImage(after_sale=sale, image=name)])
    migration = importlib.import_module("fenxiao.orders.migrations.0012_after_sale_photos_private")
    migration.move_photos_to_private_storage(apps, None)
    migration.move_photos_to_private_storage(apps, None)  # again: nothing left to move, nothing lost
    photo = AfterSaleImage.objects.get()
    assert not public.exists(name) and photo.image.name == name
    assert b"".join(Client().get(photo.url).streaming_content) == b"old photo"
    migration.move_photos_back_to_media(apps, None)  # a downgrade puts them back
    assert public.open(name).read() == b"old photo" and not storages["private"].exists(name)
