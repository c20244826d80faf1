"""Shipping in parcels: part of an order, then the rest, moves it to 已发货 once; more than
is left is refused; the one-click 发货 still ships everything; the staff API and the
buyer's order page show the parcels."""

import pytest

from fenxiao.core.errors import DomainError
from fenxiao.notices.models import Message
from fenxiao.orders.models import Order, OrderEvent, OrderStatus, Parcel, ParcelLine, TrackingSubscription
from fenxiao.orders.services import after_sales, lifecycle, shipments
from fenxiao.testing import api_for, assert_refused, login, make_staff

from .logistics_helpers import paid_order

pytestmark = pytest.mark.django_db


def test_partial_then_rest_ships_the_order_once():
    order = paid_order((2, 1))
    first, second = order.lines.all()
    staff = make_staff()

    parcel = shipments.ship_parcel(
        order, staff, carrier="顺丰", tracking_number="SF1001", lines={first.pk: 1}
    )
    order.refresh_from_db()
    assert parcel.carrier == "shunfeng"
    assert order.status == OrderStatus.PENDING_SHIPMENT
    assert shipments.is_partly_shipped(order)
    assert shipments.remaining_quantities(order) == {first.pk: 1, second.pk: 1}
    assert (order.carrier, order.tracking_number, order.shipped_at) == ("shunfeng", "SF1001", None)

    rest = shipments.ship_parcel(order, staff, carrier="zhongtong", tracking_number="ZT2002")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.shipped_at is not None and order.auto_complete_at is not None
    assert {(line.order_line_id, line.quantity) for line in rest.lines.all()} == {
        (first.pk, 1),
        (second.pk, 1),
    }
    assert list(OrderEvent.objects.filter(order=order, kind="shipped").values_list("message", flat=True)) == [
        "商家已发货（共 2 个包裹，已全部发出）：中通快递 ZT2002"
    ]
    assert OrderEvent.objects.filter(order=order, kind="parcel_shipped").count() == 1
    # One shipped notice per parcel, each naming its carrier.
    bodies = sorted(
        Message.objects.filter(user=order.buyer, kind="order_shipped").values_list("body", flat=True)
    )
    assert len(bodies) == 2 and "顺丰速运 运单号 SF1001" in bodies[0] + bodies[1]
    # Each parcel has its tracking subscription, sent at once.
    assert TrackingSubscription.objects.filter(parcel__order=order, status="subscribed").count() == 2

    with pytest.raises(DomainError) as refused:
        shipments.ship_parcel(order, staff, carrier="顺丰", tracking_number="SF1003")
    assert refused.value.code == "INVALID_STATE_TRANSITION"


def test_shipping_more_than_is_left_is_refused_and_writes_nothing():
    order = paid_order((2,))
    (line,) = order.lines.all()
    staff = make_staff()
    shipments.ship_parcel(order, staff, carrier="顺丰", tracking_number="SF1", lines={line.pk: 1})

    for lines, code in (
        ({line.pk: 2}, "SHIPMENT_EXCEEDS_REMAINING"),
        ({line.pk: 0}, "NOTHING_TO_SHIP"),
        ({line.pk: -1}, "SHIPMENT_INVALID"),
        ({999999: 1}, "LINE_NOT_IN_ORDER"),
    ):
        with pytest.raises(DomainError) as refused:
            shipments.ship_parcel(order, staff, carrier="顺丰", tracking_number="SF2", lines=lines)
        assert refused.value.code == code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    with pytest.raises(DomainError) as refused:
        shipments.ship_parcel(order, staff, carrier="顺丰", tracking_number="sf1", lines={line.pk: 1})
    assert refused.value.code == "TRACKING_NUMBER_USED"
    assert Parcel.objects.filter(order=order).count() == 1
    assert sum(ParcelLine.objects.filter(parcel__order=order).values_list("quantity", flat=True)) == 1


@pytest.mark.parametrize(
    ("carrier", "number", "code"),
    [
        ("", "SF1", "SHIPMENT_INVALID"),
        ("顺丰", "  ", "SHIPMENT_INVALID"),
        ("火星快递", "SF1", "CARRIER_UNKNOWN"),
        ("顺丰", "SF 1<script>", "TRACKING_NUMBER_INVALID"),
        ("顺丰", "S" * 41, "TRACKING_NUMBER_INVALID"),
    ],
)
def test_bad_waybills_are_refused(carrier, number, code):
    order = paid_order((1,))
    with pytest.raises(DomainError) as refused:
        lifecycle.ship(order, make_staff(), carrier=carrier, tracking_number=number)
    assert refused.value.code == code
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_SHIPMENT and not Parcel.objects.exists()


def test_one_click_ship_keeps_its_old_shape_and_rules():
    order = paid_order((3, 1))
    shipped = lifecycle.ship(order, make_staff(), carrier="顺丰速运", tracking_number="SF9")
    assert shipped.status == OrderStatus.SHIPPED
    assert (shipped.carrier, shipped.tracking_number) == ("shunfeng", "SF9")
    (parcel,) = Parcel.objects.filter(order=order)
    assert sorted(parcel.lines.values_list("quantity", flat=True)) == [1, 3]

    # An open after-sale still stops shipping.
    other = paid_order((1,))
    after_sales.request_after_sale(
        other, other.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": other.lines.get().pk}]
    )
    with pytest.raises(DomainError) as refused:
        shipments.ship_parcel(
            Order.objects.get(pk=other.pk), make_staff(), carrier="顺丰", tracking_number="SF1"
        )
    assert refused.value.code == "ORDER_HAS_OPEN_AFTER_SALE"


def test_staff_api_ships_and_the_buyer_api_shows_the_parcels():
    order = paid_order((2, 1))
    first = order.lines.all()[0]
    staff = make_staff(superuser=True)
    shipments.ship_parcel(order, staff, carrier="yuantong", tracking_number="YT1", lines={first.pk: 2})
    reply = api_for(staff).post(
        f"/staff/orders/{order.number}/ship", {"carrier": "韵达", "tracking_number": "YD2"}
    )
    assert reply.status_code == 200, reply.content
    assert reply.json()["status"] == "shipped"
    assert_refused(
        api_for(staff).post(
            f"/staff/orders/{order.number}/ship", {"carrier": "韵达", "tracking_number": "YD3"}
        ),
        409,
        "INVALID_STATE_TRANSITION",
    )

    body = api_for(order.buyer).get(f"/orders/{order.number}").json()
    assert (body["carrier"], body["carrier_name"]) == ("yunda", "韵达快递")
    assert [(p["carrier_name"], p["tracking_number"]) for p in body["parcels"]] == [
        ("圆通速递", "YT1"),
        ("韵达快递", "YD2"),
    ]
    assert body["parcels"][0]["lines"] == [
        {"order_line_id": first.pk, "product_name": first.product_name, "quantity": 2}
    ]


def test_buyer_page_shows_partly_shipped():
    order = paid_order((2, 1))
    first = order.lines.all()[0]
    shipments.ship_parcel(order, make_staff(), carrier="jd", tracking_number="JD0001", lines={first.pk: 1})
    page = login(order.buyer).get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="order-status">部分发货<' in page
    assert "京东物流" in page and 'value="JD0001"' in page and "等待快递员揽收" in page


def test_a_partly_shipped_order_is_not_cancelled_whole():
    order = paid_order((1, 1))
    first = order.lines.all()[0]
    shipments.ship_parcel(order, make_staff(), carrier="顺丰", tracking_number="SF1", lines={first.pk: 1})
    with pytest.raises(DomainError) as refused:
        lifecycle.cancel(Order.objects.get(pk=order.pk), order.buyer)
    assert refused.value.code == "ORDER_PARTLY_SHIPPED"
    page = login(order.buyer).get(f"/orders/{order.number}/").content.decode()
    assert "取消订单并退款" not in page
