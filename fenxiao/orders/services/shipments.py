"""Shipping an order, whole or in parcels (拆单发货).

Invariant: an order line's quantity is put in parcels at most once, whoever ships and
however many staff ship the same order at the same moment. Every shipment locks the
order row first and reads what is still to ship under that lock, so a second shipper
waits and then sees the first one's parcel. An order stays 待发货 (shown as 部分发货)
until every line's quantity still owed to the buyer is in a parcel; the parcel that
completes it moves the order to 已发货 through the order state machine, exactly once.

What is still owed of a line is its quantity less what was refunded (refund-only before
shipping) less what is already in parcels.

Each parcel gets a tracking subscription (an outbox row, see `tracking`) written in the
same transaction and sent by a task after commit.
"""

import re
from datetime import timedelta

from django.db import transaction
from django.db.models import Prefetch, Sum
from django.utils import timezone

from fenxiao.core.errors import InvalidTransition
from fenxiao.notices.services import events as notices
from fenxiao.shipping.carriers import carrier_name, find_carrier

from ..errors import ShipmentInvalid
from ..models import (
    OPEN_AFTER_SALE,
    ActorKind,
    AfterSale,
    Order,
    OrderLine,
    OrderSettings,
    OrderStatus,
    Parcel,
    ParcelLine,
    TrackingEvent,
)
from . import tracking
from .events import log_event, transition

# Waybill numbers are letters, digits and hyphens (SF1234567890, JT0001-2); nothing else
# goes into a search box, a carrier's query or a shipping file.
TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def clean_waybill(carrier: str, tracking_number: str) -> tuple[str, str]:
    """The carrier code and tracking number a merchant means, or ShipmentInvalid."""
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise ShipmentInvalid()
    found = find_carrier(carrier)
    if found is None:
        raise ShipmentInvalid(f"不支持的物流公司“{carrier[:20]}”，请从列表中选择", code="CARRIER_UNKNOWN")
    if not TRACKING_NUMBER.match(tracking_number):
        raise ShipmentInvalid("运单号只能包含字母、数字和“-”，最多40位", code="TRACKING_NUMBER_INVALID")
    return found.value, tracking_number.upper()


def remaining_quantities(order: Order) -> dict[int, int]:
    """Per order line id, how many units are still to be put in a parcel."""
    shipped = dict(
        ParcelLine.objects.filter(parcel__order=order)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    return {
        pk: max(quantity - refunded - shipped.get(pk, 0), 0)
        for pk, quantity, refunded in OrderLine.objects.filter(order=order).values_list(
            "pk", "quantity", "refunded_quantity"
        )
    }


def is_partly_shipped(order: Order) -> bool:
    """部分发货: paid, not yet 已发货, but some parcel has left."""
    return order.status == OrderStatus.PENDING_SHIPMENT and order.parcels.exists()


def _check_shippable(order: Order) -> None:
    if order.is_pickup:
        raise InvalidTransition("到店自提订单无需发货，请在门店核销提货码", code="ORDER_IS_PICKUP")
    if order.status != OrderStatus.PENDING_SHIPMENT:
        # The generic state-transition code, as the one-click 发货 has always answered.
        raise InvalidTransition(f"订单状态为“{order.get_status_display()}”，只有待发货的订单可以发货")
    if order.awaiting_group:
        raise InvalidTransition("拼团尚未成功，订单暂不能发货", code="ORDER_AWAITING_GROUP")
    if AfterSale.objects.filter(order=order, status__in=OPEN_AFTER_SALE).exists():
        raise InvalidTransition("订单有处理中的售后申请，请先处理售后", code="ORDER_HAS_OPEN_AFTER_SALE")


def _chosen(lines: dict | None, remaining: dict[int, int]) -> dict[int, int]:
    if lines is None:  # everything left
        chosen = {pk: left for pk, left in remaining.items() if left}
        if not chosen:
            raise ShipmentInvalid("订单商品已全部发货", code="NOTHING_TO_SHIP")
        return chosen
    chosen = {}
    for raw_id, raw_quantity in lines.items():
        try:
            line_id, quantity = int(raw_id), int(raw_quantity)
        except (TypeError, ValueError) as exc:
            raise ShipmentInvalid("发货数量有误") from exc
        if line_id not in remaining:
            raise ShipmentInvalid("商品不属于该订单", code="LINE_NOT_IN_ORDER")
        if quantity < 0:
            raise ShipmentInvalid("发货数量不能为负数")
        if quantity > remaining[line_id]:
            raise ShipmentInvalid(
                f"发货数量超过待发货数量（还可发 {remaining[line_id]} 件）", code="SHIPMENT_EXCEEDS_REMAINING"
            )
        if quantity:
            chosen[line_id] = quantity
    if not chosen:
        raise ShipmentInvalid("请填写要发货的商品数量", code="NOTHING_TO_SHIP")
    return chosen


@transaction.atomic
def ship_parcel(
    order: Order, staff, *, carrier: str, tracking_number: str, lines: dict[int, int] | None = None
) -> Parcel:
    """Put `lines` ({order line id: quantity}; None = everything still to ship) in one
    parcel. Returns the parcel; `parcel.order` is the order as it now is."""
    carrier, tracking_number = clean_waybill(carrier, tracking_number)
    order = Order.objects.select_for_update().get(pk=order.pk)
    _check_shippable(order)
    remaining = remaining_quantities(order)
    chosen = _chosen(lines, remaining)
    if Parcel.objects.filter(order=order, carrier=carrier, tracking_number=tracking_number).exists():
        raise ShipmentInvalid("该运单号已用于本订单的其他包裹", code="TRACKING_NUMBER_USED")

    now = timezone.now()
    parcel = Parcel.objects.create(
        order=order, carrier=carrier, tracking_number=tracking_number, shipped_at=now, staff=staff
    )
    ParcelLine.objects.bulk_create(
        ParcelLine(parcel=parcel, order_line_id=pk, quantity=quantity) for pk, quantity in chosen.items()
    )
    tracking.subscribe_later(parcel)

    name = carrier_name(carrier)
    units = sum(chosen.values())
    complete = all(left == chosen.get(pk, 0) for pk, left in remaining.items())
    # Order.carrier / tracking_number keep the latest parcel, for readers that know one.
    waybill = {"carrier": carrier, "tracking_number": tracking_number}
    if complete:
        days = OrderSettings.current().auto_complete_days
        transition(
            order, OrderStatus.SHIPPED, shipped_at=now, auto_complete_at=now + timedelta(days=days), **waybill
        )
        count = order.parcels.count()
        whole = f"（共 {count} 个包裹，已全部发出）" if count > 1 else ""
        log_event(
            order,
            "shipped",
            ActorKind.STAFF,
            f"商家已发货{whole}：{name} {tracking_number}",
            actor=staff,
            carrier=carrier,
            tracking_number=tracking_number,
            parcel_id=parcel.pk,
        )
    else:
        Order.objects.filter(pk=order.pk).update(**waybill)
        order.carrier, order.tracking_number = carrier, tracking_number
        log_event(
            order,
            "parcel_shipped",
            ActorKind.STAFF,
            f"商家已部分发货：{name} {tracking_number}，共 {units} 件",
            actor=staff,
            carrier=carrier,
            tracking_number=tracking_number,
            parcel_id=parcel.pk,
        )
    notices.order_shipped(
        buyer_id=order.buyer_id,
        order_id=order.pk,
        number=order.number,
        carrier=name,
        tracking_number=tracking_number,
        parcel_id=parcel.pk,
    )
    parcel.order = order
    return parcel


def ship_rest(order: Order, staff, *, carrier: str, tracking_number: str) -> Order:
    """Everything still to ship, in one parcel (the one-click 发货)."""
    return ship_parcel(order, staff, carrier=carrier, tracking_number=tracking_number).order


def parcel_details() -> list[Prefetch]:
    """A parcel's goods and trail, newest line first, one query each for all parcels."""
    return [
        Prefetch("lines", queryset=ParcelLine.objects.select_related("order_line").order_by("id")),
        Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("-occurred_at", "-id")),
    ]


def parcels_prefetch() -> Prefetch:
    """What an order page needs of its parcels (lines, trail) in three queries, however
    many parcels and trail lines there are."""
    return Prefetch("parcels", queryset=Parcel.objects.order_by("id").prefetch_related(*parcel_details()))
