"""An order's log (订单日志) reads in its reader's language: each event keeps its template and
arguments next to the Chinese sentence it stores, and is rendered when shown — on the
backend's order page, the buyer's H5 order page and the order API. Carriers, after-sale
kinds and listed reasons are translated from their codes; what a person typed (a reason,
a 商家备注) reads as typed; rows written before templates show their stored sentence."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from fenxiao.orders.models import Order, OrderEvent
from fenxiao.orders.services import after_sales, lifecycle, merchant_notes, shipments, sweeps
from fenxiao.orders.services.events import carrier_arg, event_line
from fenxiao.testing import api_for, in_english, login, make_staff

from .backend import make_order, pay, url

pytestmark = pytest.mark.django_db


def line(order, kind: str, language: str) -> str:
    event = OrderEvent.objects.filter(order=order, kind=kind).latest("id")
    with translation.override(language):
        return event.text


@pytest.fixture
def staff():
    return make_staff("boss", superuser=True)


@pytest.fixture
def shipped(staff):
    order = pay(make_order(prices=(4990,)))
    lifecycle.ship(order, staff, carrier="shunfeng", tracking_number="SF1234567890")
    return order


def test_paid_shipped_and_completed_in_english_and_chinese(shipped):
    assert line(shipped, "created", "en") == "Buyer placed the order"
    assert line(shipped, "paid", "en") == "Buyer paid ¥49.90"
    assert line(shipped, "paid", "zh-hans") == "买家已付款 ¥49.90"
    assert line(shipped, "shipped", "en") == "Merchant shipped the order: SF Express SF1234567890"
    assert line(shipped, "shipped", "zh-hans") == "商家已发货：顺丰速运 SF1234567890"
    lifecycle.complete(shipped, actor=shipped.buyer)
    assert line(shipped, "completed", "en") == "Buyer confirmed receipt"
    assert line(shipped, "completed", "zh-hans") == "买家确认收货"


def test_the_stored_message_stays_chinese_and_equals_the_chinese_line(shipped):
    with translation.override("en"):  # whatever language the writer spoke
        lifecycle.complete(shipped, actor=shipped.buyer)
    for event in OrderEvent.objects.filter(order=shipped):
        with translation.override("zh-hans"):
            assert event.text == event.message
    messages = set(OrderEvent.objects.filter(order=shipped).values_list("message", flat=True))
    assert {"商家已发货：顺丰速运 SF1234567890", "买家确认收货"} <= messages


def test_an_after_sale_reads_its_kind_and_listed_reason_translated(shipped):
    after_sale = after_sales.request_after_sale(
        shipped,
        shipped.buyer,
        kind="refund_only",
        reason_code="quality",
        lines=[{"line_id": shipped.lines.get().pk}],
    )
    number = after_sale.number
    assert line(shipped, "after_sale_requested", "en") == (
        "Buyer requested an after-sale (Refund only) of ¥49.90: Quality problem"
    )
    assert line(shipped, "after_sale_requested", "zh-hans") == "买家申请仅退款 ¥49.90：商品质量问题"
    after_sales.approve(after_sale, make_staff("clerk", superuser=True))
    assert line(shipped, "after_sale_approved", "en") == (
        f"After-sale {number} approved; ¥49.90 refunded to the original payment method"
    )
    assert line(shipped, "refunded", "en") == f"After-sale {number} refunded: ¥49.90"
    assert line(shipped, "refunded", "zh-hans") == f"售后 {number} 已退款 ¥49.90"


def test_what_a_person_typed_reads_as_typed(staff):
    order = pay(make_order())
    after_sale = after_sales.request_after_sale(
        order,
        order.buyer,
        kind="refund_only",
        reason="颜色和图片不一样",
        lines=[{"line_id": order.lines.get().pk}],
    )
    after_sales.reject(after_sale, staff, reason="已与买家电话沟通")
    assert line(order, "after_sale_requested", "en") == (
        "Buyer requested an after-sale (Refund only) of ¥49.90: 颜色和图片不一样"
    )
    assert (
        line(order, "after_sale_rejected", "en")
        == f"After-sale {after_sale.number} rejected: 已与买家电话沟通"
    )
    merchant_notes.set_merchant_note(order, staff, "加急发货")
    assert line(order, "merchant_note", "en") == "Merchant note: 加急发货"
    merchant_notes.set_merchant_note(order, staff, "")
    assert line(order, "merchant_note", "en") == "Merchant cleared the note"


def test_a_cancel_reads_a_default_reason_translated_and_a_typed_one_as_typed():
    default, typed = make_order(), make_order()
    lifecycle.cancel(default, default.buyer)
    lifecycle.cancel(typed, typed.buyer, reason="地址填错了")
    assert line(default, "cancelled", "en") == "Order cancelled: Cancelled by the buyer"
    assert line(default, "cancelled", "zh-hans") == "订单已取消：买家取消"
    assert line(typed, "cancelled", "en") == "Order cancelled: 地址填错了"


def test_rows_written_before_templates_show_their_stored_message():
    order = make_order()
    finished = OrderEvent.objects.create(
        order=order,
        kind="paid",
        actor_kind="gateway",
        message="买家已付款 ¥49.90",
        data={"gateway": "sandbox"},
    )
    # A row whose template no longer fits its arguments falls back to its message too.
    broken = OrderEvent.objects.create(
        order=order,
        kind="paid",
        actor_kind="gateway",
        message="买家已付款 ¥1.00",
        data={OrderEvent.TEMPLATE: "买家已付款 %(amount)s", OrderEvent.ARGS: {"total": "¥1.00"}},
    )
    with translation.override("en"):
        assert OrderEvent.objects.get(pk=finished.pk).text == "买家已付款 ¥49.90"
        assert OrderEvent.objects.get(pk=broken.pk).text == "买家已付款 ¥1.00"


def test_the_backend_order_page_in_english_shows_english_lines(staff, shipped):
    body = in_english(login(staff)).get(url(shipped)).content.decode()
    assert "Buyer paid ¥49.90" in body
    assert "Merchant shipped the order: SF Express SF1234567890" in body
    assert "买家已付款" not in body and "商家已发货" not in body
    chinese = login(staff).get(url(shipped)).content.decode()
    assert "买家已付款 ¥49.90" in chinese and "Buyer paid" not in chinese


def test_the_buyer_order_page_and_api_in_english(shipped):
    page = reverse("storefront:order_detail", args=[shipped.number])
    body = in_english(login(shipped.buyer)).get(page).content.decode()
    assert "Merchant shipped the order: SF Express SF1234567890" in body
    assert "商家已发货" not in body
    api = api_for(shipped.buyer)
    reply = api.client.get(f"/api/v1/orders/{shipped.number}", HTTP_ACCEPT_LANGUAGE="en", **api._headers())
    assert reply.status_code == 200
    lines = [event["message"] for event in reply.json()["events"]]
    assert "Merchant shipped the order: SF Express SF1234567890" in lines
    chinese = [event["message"] for event in api.get(f"/orders/{shipped.number}").json()["events"]]
    assert "商家已发货：顺丰速运 SF1234567890" in chinese


def test_the_staff_api_reads_every_line_in_the_callers_language(staff, shipped):
    merchant_notes.set_merchant_note(shipped, staff, "加急")
    api = api_for(staff)
    reply = api.client.get(
        f"/api/v1/staff/orders/{shipped.number}", HTTP_ACCEPT_LANGUAGE="en", **api._headers()
    )
    assert reply.status_code == 200, reply.content
    lines = [event["message"] for event in reply.json()["events"]]
    assert "Buyer paid ¥49.90" in lines and "Merchant note: 加急" in lines


def test_more_events_cost_no_more_queries_on_the_order_page(staff, shipped):
    client = in_english(login(staff))
    client.get(url(shipped))  # warm up (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(shipped)).status_code == 200
    for note in ("一", "二", "三", "四", "五"):
        merchant_notes.set_merchant_note(shipped, staff, note)
    with CaptureQueriesContext(connection) as many:
        body = client.get(url(shipped)).content.decode()
    assert "Merchant note: 五" in body
    assert len(many) == len(few)


def test_lines_written_in_bulk_read_in_english_too(staff):
    """The sweeps and batch actions insert their events in bulk, with the same templates."""
    unpaid, paid, noted = make_order(), pay(make_order()), make_order()
    Order.objects.filter(pk=unpaid.pk).update(pay_deadline=timezone.now() - timedelta(minutes=1))
    assert sweeps.cancel_expired_orders() == 1
    assert line(unpaid, "cancelled", "en") == "Order cancelled: Not paid in time, cancelled automatically"
    assert line(unpaid, "cancelled", "zh-hans") == "订单已取消：超时未付款，系统自动取消"
    assert shipments.ship_orders([shipments.Waybill(paid.pk, "zhongtong", "ZT123456789")], staff) == {}
    assert line(paid, "shipped", "en") == "Merchant shipped the order: ZTO Express ZT123456789"
    assert line(paid, "shipped", "zh-hans") == "商家已发货：中通快递 ZT123456789"
    assert merchant_notes.set_merchant_note_many([noted.pk], staff, "送小样") == 1
    assert line(noted, "merchant_note", "en") == "Merchant note: 送小样"
    assert OrderEvent.objects.get(order=noted, kind="merchant_note").data["batch"] is True


def test_a_tracking_line_names_the_state_by_its_code_and_keeps_the_carriers_words():
    args = {
        "carrier": carrier_arg("shunfeng"),
        "tracking_number": "SF1234567890",
        "state": {"tracking_state": "delivering"},
        "context": "快递员正在派件",
    }
    template = "包裹 %(carrier)s %(tracking_number)s：%(state)s，%(context)s"
    event = OrderEvent.objects.create(
        order=make_order(), kind="parcel_delivering", actor_kind="system", **event_line(template, args)
    )
    assert event.message == "包裹 顺丰速运 SF1234567890：派件中，快递员正在派件"
    with translation.override("en"):
        assert event.text == "Parcel SF Express SF1234567890: Out for delivery, 快递员正在派件"
