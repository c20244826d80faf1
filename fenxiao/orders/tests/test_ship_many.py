"""Shipping many orders at once (`shipments.ship_orders`, behind 批量发货): each order ends
exactly as the one-click 发货 leaves it, an order that cannot ship is reported and the rest
of its chunk ships, and a chunk costs the same number of statements whatever its size."""

import pytest
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext

from fenxiao.notices.models import Message
from fenxiao.orders.models import Order, OrderEvent, OrderSettings, OrderStatus, Parcel, TrackingSubscription
from fenxiao.orders.services import after_sales, lifecycle, shipments
from fenxiao.orders.services.shipments import Waybill
from fenxiao.testing import make_staff
from fenxiao.webhooks.models import Event, EventType
from fenxiao.webhooks.tests.helpers import make_endpoint

from .logistics_helpers import paid_order

pytestmark = pytest.mark.django_db


def _shape(order: Order) -> dict:
    """Everything shipping leaves behind for one order, without ids and times."""
    order.refresh_from_db()
    (parcel,) = Parcel.objects.filter(order=order).order_by("-id")[:1]
    event = OrderEvent.objects.filter(order=order, kind="shipped").get()
    webhook = Event.objects.get(
        type=EventType.ORDER_SHIPPED, source_key=f"order-shipped:{order.pk}:{parcel.pk}"
    )
    return {
        "order": (
            order.status,
            order.carrier,
            order.tracking_number,
            order.auto_complete_at - order.shipped_at,
        ),
        "parcel": (
            parcel.carrier,
            parcel.tracking_number,
            parcel.shipped_at == order.shipped_at,
            parcel.staff_id,
        ),
        "units": sorted(parcel.lines.values_list("quantity", flat=True)),
        "event": (event.actor_kind, event.actor_id, event.message, {**event.data, "parcel_id": "-"}),
        "notice": [
            (title, body.replace(order.number, "N"), link.replace(order.number, "N"))
            for title, body, link in Message.objects.filter(
                source_key=f"order-shipped:{order.pk}:{parcel.pk}"
            ).values_list("title", "body", "link")
        ],
        "webhook": {
            **webhook.payload,
            "order_id": "-",
            "order_number": "-",
            "parcel_id": webhook.payload["parcel_id"] == parcel.pk,
            "shipped_at": "-",
        },
        "subscribed": TrackingSubscription.objects.filter(parcel=parcel, status="subscribed").count(),
    }


def test_a_batch_ships_each_order_as_the_one_click_ship_does():
    make_endpoint("http://127.0.0.1:1/hooks")  # nobody listens: the events are what counts
    OrderSettings.current()
    staff = make_staff()
    one, many = paid_order((2, 1)), paid_order((2, 1))
    for order in (one, many):  # both partly shipped already: the rest is the second parcel
        first = order.lines.order_by("id").first()
        shipments.ship_parcel(
            order, staff, carrier="顺丰", tracking_number=f"SF{order.pk}", lines={first.pk: 1}
        )

    lifecycle.ship(one, staff, carrier="yunda", tracking_number="YD0001")
    refused = shipments.ship_orders([Waybill(many.pk, "yunda", "YD0001")], staff)

    assert refused == {}
    single, batch = _shape(one), _shape(many)
    assert batch == single
    assert single["event"][2] == "商家已发货（共 2 个包裹，已全部发出）：韵达快递 YD0001"
    assert single["order"][0] == OrderStatus.SHIPPED and single["subscribed"] == 1
    assert single["notice"] == [
        ("订单已发货", "您的订单 N 已发货，韵达快递 运单号 YD0001，请留意查收。", "/orders/N/")
    ]


def test_an_order_that_cannot_ship_is_reported_and_the_rest_of_its_chunk_ships():
    OrderSettings.current()
    staff = make_staff()
    good = [paid_order((1,)) for _ in range(3)]
    disputed = paid_order((1,))
    after_sales.request_after_sale(
        disputed,
        disputed.buyer,
        kind="refund_only",
        reason="不想要了",
        lines=[{"line_id": disputed.lines.get().pk}],
    )
    shipped = paid_order((1,))
    lifecycle.ship(shipped, staff, carrier="顺丰", tracking_number="SF1")
    same_waybill = paid_order((2,))
    line = same_waybill.lines.get()
    shipments.ship_parcel(same_waybill, staff, carrier="yunda", tracking_number="YD7", lines={line.pk: 1})
    waybills = [Waybill(o.pk, "zhongtong", f"ZT{o.pk:04d}") for o in good]
    waybills += [
        Waybill(disputed.pk, "zhongtong", "ZT9001"),
        Waybill(shipped.pk, "zhongtong", "ZT9002"),
        Waybill(same_waybill.pk, "yunda", "YD7"),
        Waybill(987654, "zhongtong", "ZT9003"),
    ]

    refused = shipments.ship_orders(waybills, staff, chunk=3)

    assert refused == {
        disputed.pk: "订单有处理中的售后申请，请先处理售后",
        shipped.pk: "订单状态为“已发货”，只有待发货的订单可以发货",
        same_waybill.pk: "该运单号已用于本订单的其他包裹",
        987654: "订单不存在",
    }
    for order in good:
        order.refresh_from_db()
        assert (order.status, order.tracking_number) == (OrderStatus.SHIPPED, f"ZT{order.pk:04d}")
    # What was refused is as it was.
    assert Order.objects.get(pk=disputed.pk).status == OrderStatus.PENDING_SHIPMENT
    assert Order.objects.get(pk=shipped.pk).tracking_number == "SF1"
    assert Parcel.objects.filter(order=same_waybill).count() == 1
    assert not Parcel.objects.filter(order=disputed).exists()


def test_a_chunk_costs_the_same_statements_for_two_orders_or_twenty(monkeypatch):
    make_endpoint("http://127.0.0.1:1/hooks")  # nobody listens: the events are what counts
    OrderSettings.current()
    staff = make_staff()
    few, many = [paid_order((2, 1)) for _ in range(2)], [paid_order((2, 1)) for _ in range(20)]
    # The shipping transaction alone: tasks queued after commit are counted where they run.
    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", lambda self, func, robust=False: None)

    def ship(orders) -> int:
        with CaptureQueriesContext(connection) as queries:
            refused = shipments.ship_orders([Waybill(o.pk, "yunda", f"YD{o.pk:05d}") for o in orders], staff)
        assert refused == {}
        return len(queries)

    assert ship(few) == ship(many)
    assert Order.objects.filter(status=OrderStatus.SHIPPED).count() == 22


def test_a_chunk_the_database_gives_up_on_ships_nothing_and_the_next_chunk_ships(monkeypatch):
    from django.db import OperationalError

    from fenxiao.notices.services import events as notices

    OrderSettings.current()
    orders = [paid_order((1,)) for _ in range(4)]
    real, calls = notices.parcels_shipped, []

    def first_chunk_dies(parcels):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return real(parcels)

    monkeypatch.setattr(notices, "parcels_shipped", first_chunk_dies)
    refused = shipments.ship_orders(
        [Waybill(o.pk, "yunda", f"YD{o.pk:05d}") for o in orders], make_staff(), chunk=2
    )

    first, second = orders[:2], orders[2:]
    assert refused == dict.fromkeys((o.pk for o in first), "发货失败，请稍后重新上传这些订单")
    assert not Parcel.objects.filter(order__in=first).exists()
    assert set(Order.objects.filter(pk__in=[o.pk for o in first]).values_list("status", flat=True)) == {
        OrderStatus.PENDING_SHIPMENT
    }
    assert Order.objects.filter(pk__in=[o.pk for o in second], status=OrderStatus.SHIPPED).count() == 2
