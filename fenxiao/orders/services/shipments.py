"""Shipping an order, whole or in parcels (拆单发货).

Invariant: an order line's quantity is put in parcels at most once, whoever ships and
however many staff ship the same order at the same moment. Every shipment locks the
order row first and reads what is still to ship under that lock, so a second shipper
waits and then sees the first one's parcel. An order stays 待发货 (shown as 部分发货)
until every line's quantity still owed to the buyer is in a parcel; the parcel that
completes it moves the order to 已发货 through the order state machine, exactly once.

What is still owed of a line is its quantity less what was refunded less what is already
in parcels: a refund takes the units not yet in a parcel first (they are the ones still in
the warehouse), so only a line with nothing left to ship may be returned while the order
is still 待发货 (see `after_sale_checks`). A refund that takes away the last units still to
ship of a partly shipped order moves it to 已发货 exactly as the last parcel would have
(`ship_if_nothing_left`). An open after-sale holds back shipping only when it concerns
units still to ship (or the postage alone): a return of goods already sent does not keep
the rest of the order in the warehouse.

Each parcel gets a tracking subscription (an outbox row, see `tracking`) written in the
same transaction and sent by a task after commit.

Many orders at once (批量发货) ship whole through `ship_orders`: the same checks and the
same rows as the one-click 发货, written set-based a chunk at a time, under the same order
locks (taken in id order).
"""

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import DatabaseError, transaction
from django.db.models import Case, Prefetch, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.core.errors import DomainError, InvalidTransition
from fenxiao.notices.services import events as notices
from fenxiao.shipping.carriers import carrier_record_name, find_carrier
from fenxiao.webhooks.services import events as webhooks

from ..errors import ShipmentInvalid
from ..models import (
    OPEN_AFTER_SALE,
    ORDER_FLOW,
    ActorKind,
    AfterSale,
    Order,
    OrderEvent,
    OrderLine,
    OrderSettings,
    OrderStatus,
    Parcel,
    ParcelLine,
    TrackingEvent,
)
from . import tracking
from .events import carrier_arg, event_actor, event_line, log_event, transition

logger = logging.getLogger(__name__)

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
        raise ShipmentInvalid(
            _("不支持的物流公司“%(carrier)s”，请从列表中选择") % {"carrier": carrier[:20]},
            code="CARRIER_UNKNOWN",
        )
    if not TRACKING_NUMBER.match(tracking_number):
        raise ShipmentInvalid(_("运单号只能包含字母、数字和“-”，最多40位"), code="TRACKING_NUMBER_INVALID")
    return found.value, tracking_number.upper()


def remaining_quantities(order: Order) -> dict[int, int]:
    """Per order line id, how many units are still to be put in a parcel."""
    return remaining_by_order([order.pk]).get(order.pk, {})


def remaining_by_order(order_ids: list[int]) -> dict[int, dict[int, int]]:
    """`remaining_quantities` of many orders, in two queries: {order id: {line id: units}}."""
    shipped = dict(
        ParcelLine.objects.filter(parcel__order_id__in=order_ids)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    remaining: dict[int, dict[int, int]] = {}
    for pk, order_id, quantity, refunded in OrderLine.objects.filter(order_id__in=order_ids).values_list(
        "pk", "order_id", "quantity", "refunded_quantity"
    ):
        remaining.setdefault(order_id, {})[pk] = max(quantity - refunded - shipped.get(pk, 0), 0)
    return remaining


def is_partly_shipped(order: Order) -> bool:
    """部分发货: paid, not yet 已发货, but some parcel has left."""
    return order.status == OrderStatus.PENDING_SHIPMENT and order.parcels.exists()


def disputed_orders(order_ids: list[int], remaining: dict[int, dict[int, int]]) -> set[int]:
    """Of `order_ids`, those with an open after-sale that must be settled before shipping:
    one on a line with units still to ship (`remaining`, as `remaining_by_order` gives it),
    or on the postage alone. One query."""
    rows = AfterSale.objects.filter(order_id__in=order_ids, status__in=OPEN_AFTER_SALE).values_list(
        "order_id", "lines__order_line_id"
    )
    return {
        order_id
        for order_id, line_id in rows
        if line_id is None or remaining.get(order_id, {}).get(line_id, 0) > 0
    }


def _check_shippable(order: Order, *, disputed: bool) -> None:
    """Refuses what cannot ship; `disputed`: see `disputed_orders`."""
    if order.is_pickup:
        raise InvalidTransition(_("到店自提订单无需发货，请在门店核销提货码"), code="ORDER_IS_PICKUP")
    if order.status != OrderStatus.PENDING_SHIPMENT:
        # The generic state-transition code, as the one-click 发货 has always answered.
        raise InvalidTransition(
            _("订单状态为“%(status)s”，只有待发货的订单可以发货") % {"status": order.get_status_display()}
        )
    if order.awaiting_group:
        raise InvalidTransition(_("拼团尚未成功，订单暂不能发货"), code="ORDER_AWAITING_GROUP")
    if disputed:
        raise InvalidTransition(_("订单有处理中的售后申请，请先处理售后"), code="ORDER_HAS_OPEN_AFTER_SALE")


def _chosen(lines: dict | None, remaining: dict[int, int]) -> dict[int, int]:
    if lines is None:  # everything left
        chosen = {pk: left for pk, left in remaining.items() if left}
        if not chosen:
            raise ShipmentInvalid(_("订单商品已全部发货"), code="NOTHING_TO_SHIP")
        return chosen
    chosen = {}
    for raw_id, raw_quantity in lines.items():
        try:
            line_id, quantity = int(raw_id), int(raw_quantity)
        except (TypeError, ValueError) as exc:
            raise ShipmentInvalid(_("发货数量有误")) from exc
        if line_id not in remaining:
            raise ShipmentInvalid(_("商品不属于该订单"), code="LINE_NOT_IN_ORDER")
        if quantity < 0:
            raise ShipmentInvalid(_("发货数量不能为负数"))
        if quantity > remaining[line_id]:
            raise ShipmentInvalid(
                _("发货数量超过待发货数量（还可发 %(left)s 件）") % {"left": remaining[line_id]},
                code="SHIPMENT_EXCEEDS_REMAINING",
            )
        if quantity:
            chosen[line_id] = quantity
    if not chosen:
        raise ShipmentInvalid(_("请填写要发货的商品数量"), code="NOTHING_TO_SHIP")
    return chosen


@transaction.atomic
def ship_parcel(
    order: Order, staff, *, carrier: str, tracking_number: str, lines: dict[int, int] | None = None
) -> Parcel:
    """Put `lines` ({order line id: quantity}; None = everything still to ship) in one
    parcel. Returns the parcel; `parcel.order` is the order as it now is."""
    carrier, tracking_number = clean_waybill(carrier, tracking_number)
    order = Order.objects.select_for_update().get(pk=order.pk)
    remaining = remaining_quantities(order)
    _check_shippable(order, disputed=order.pk in disputed_orders([order.pk], {order.pk: remaining}))
    chosen = _chosen(lines, remaining)
    if Parcel.objects.filter(order=order, carrier=carrier, tracking_number=tracking_number).exists():
        raise ShipmentInvalid(_("该运单号已用于本订单的其他包裹"), code="TRACKING_NUMBER_USED")

    now = timezone.now()
    parcel = Parcel.objects.create(
        order=order, carrier=carrier, tracking_number=tracking_number, shipped_at=now, staff=staff
    )
    ParcelLine.objects.bulk_create(
        ParcelLine(parcel=parcel, order_line_id=pk, quantity=quantity) for pk, quantity in chosen.items()
    )
    tracking.subscribe_later(parcel)

    name = carrier_record_name(carrier)
    units = sum(chosen.values())
    complete = all(left == chosen.get(pk, 0) for pk, left in remaining.items())
    # Order.carrier / tracking_number keep the latest parcel, for readers that know one.
    if complete:
        line = _shipped_line(order.parcels.count(), carrier, tracking_number)
        _move_to_shipped(order, parcel, staff, ActorKind.STAFF, line, now)
    else:
        Order.objects.filter(pk=order.pk).update(carrier=carrier, tracking_number=tracking_number)
        order.carrier, order.tracking_number = carrier, tracking_number
        log_event(
            order,
            "parcel_shipped",
            ActorKind.STAFF,
            gettext_noop("商家已部分发货：%(carrier)s %(tracking_number)s，共 %(units)s 件"),
            actor=staff,
            args={"carrier": carrier_arg(carrier), "tracking_number": tracking_number, "units": units},
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
    webhooks.order_shipped(
        order_id=order.pk,
        number=order.number,
        parcel_id=parcel.pk,
        carrier=carrier,
        tracking_number=tracking_number,
        status=order.status,
        shipped_at=now,
    )
    parcel.order = order
    return parcel


def _move_to_shipped(order: Order, last: Parcel, actor, actor_kind: str, line: tuple, now) -> None:
    """Nothing is left to ship: 待发货 → 已发货 through the state machine, the auto-complete
    countdown from `now`, the order showing its latest parcel, and the "shipped" event.
    The one way an order becomes 已发货 one at a time, whether its last parcel just left
    or a refund took away what was still to ship."""
    days = OrderSettings.current().auto_complete_days
    waybill = {"carrier": last.carrier, "tracking_number": last.tracking_number}
    transition(
        order, OrderStatus.SHIPPED, shipped_at=now, auto_complete_at=now + timedelta(days=days), **waybill
    )
    template, args = line
    log_event(order, "shipped", actor_kind, template, actor=actor, args=args, parcel_id=last.pk, **waybill)


def ship_if_nothing_left(order: Order) -> bool:
    """After a refund was counted on the lines of a partly shipped order (the caller holds
    the order row locked): if it took away every unit still to ship, or the whole amount
    paid, the order moves to 已发货 as if its last parcel had just left, so it can be
    confirmed, auto-completed and its commission frozen. No parcel leaves: the buyer's
    notice and the webhook, which are per parcel, were sent when each parcel left.
    Returns whether the order moved."""
    if order.status != OrderStatus.PENDING_SHIPMENT or order.is_pickup:
        return False
    parcels = list(Parcel.objects.filter(order=order).order_by("id"))
    if not parcels:
        return False
    if order.refunded_amount < order.paid_amount and any(remaining_quantities(order).values()):
        return False
    last = parcels[-1]
    line = (
        gettext_noop(
            "未发货的商品已全部退款，无需再发货，订单已发货（共 %(parcels)s 个包裹）："
            "%(carrier)s %(tracking_number)s"
        ),
        {
            "parcels": len(parcels),
            "carrier": carrier_arg(last.carrier),
            "tracking_number": last.tracking_number,
        },
    )
    _move_to_shipped(order, last, None, ActorKind.SYSTEM, line, timezone.now())
    return True


def _shipped_line(parcels: int, carrier: str, tracking_number: str) -> tuple[str, dict]:
    """The "shipped" event's template and arguments, `parcels` counting the last one."""
    args = {"parcels": parcels, "carrier": carrier_arg(carrier), "tracking_number": tracking_number}
    if parcels > 1:
        return gettext_noop(
            "商家已发货（共 %(parcels)s 个包裹，已全部发出）：%(carrier)s %(tracking_number)s"
        ), args
    return gettext_noop("商家已发货：%(carrier)s %(tracking_number)s"), args


def ship_rest(order: Order, staff, *, carrier: str, tracking_number: str) -> Order:
    """Everything still to ship, in one parcel (the one-click 发货)."""
    return ship_parcel(order, staff, carrier=carrier, tracking_number=tracking_number).order


# --- many orders at once (批量发货) -----------------------------------------------------------

SHIP_CHUNK = 200


@dataclass(frozen=True)
class Waybill:
    order_id: int
    carrier: str  # a carrier code (`clean_waybill`)
    tracking_number: str


def ship_orders(waybills: list[Waybill], staff, *, chunk: int = SHIP_CHUNK) -> dict[int, str]:
    """Ship each order whole (everything still to ship, in one parcel), as `ship_rest` would,
    a chunk of orders per transaction with a fixed number of statements whatever its size.
    An order that cannot ship (someone shipped or refunded it meanwhile, an after-sale opened)
    is left as it is and the rest of its chunk ships. A chunk that fails as a whole (the
    database gave up on it) ships none of its orders, and the next chunks still run.
    Returns {order id: why not} for the orders not shipped.
    """
    refused: dict[int, str] = {}
    for start in range(0, len(waybills), chunk):
        part = waybills[start : start + chunk]
        try:
            with transaction.atomic():
                refused.update(_ship_chunk(part, staff))
        except (DomainError, DatabaseError) as exc:
            logger.warning("batch shipping: a chunk of %d orders failed: %r", len(part), exc)
            message = exc.message if isinstance(exc, DomainError) else _("发货失败，请稍后重新上传这些订单")
            refused.update(dict.fromkeys((w.order_id for w in part), message))
    return refused


def _ship_chunk(waybills: list[Waybill], staff) -> dict[int, str]:
    wanted = {w.order_id: w for w in waybills}
    ids = sorted(wanted)
    # Locked in id order, as every shipper locks one order: no deadlock with them or another batch.
    orders = list(Order.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    refused = dict.fromkeys(set(ids) - {o.pk for o in orders}, _("订单不存在"))
    remaining = remaining_by_order(ids)
    disputed = disputed_orders(ids, remaining)
    earlier = list(
        Parcel.objects.filter(order_id__in=ids).values_list("order_id", "carrier", "tracking_number")
    )
    parcels_before = Counter(order_id for order_id, _, _ in earlier)
    used = set(earlier)
    ready = []
    for order in orders:
        waybill = wanted[order.pk]
        try:
            _check_shippable(order, disputed=order.pk in disputed)
            chosen = _chosen(None, remaining.get(order.pk, {}))
        except DomainError as exc:
            refused[order.pk] = exc.message
            continue
        if (order.pk, waybill.carrier, waybill.tracking_number) in used:
            refused[order.pk] = _("该运单号已用于本订单的其他包裹")
            continue
        ready.append((order, waybill, chosen))
    if not ready:
        return refused

    now = timezone.now()
    parcels = Parcel.objects.bulk_create(
        Parcel(order=o, carrier=w.carrier, tracking_number=w.tracking_number, shipped_at=now, staff=staff)
        for o, w, _ in ready
    )
    ParcelLine.objects.bulk_create(
        ParcelLine(parcel=parcel, order_line_id=pk, quantity=quantity)
        for parcel, (_, _, chosen) in zip(parcels, ready, strict=True)
        for pk, quantity in chosen.items()
    )
    tracking.subscribe_many_later(parcels)
    ORDER_FLOW.check(OrderStatus.PENDING_SHIPMENT, OrderStatus.SHIPPED)
    days = OrderSettings.current().auto_complete_days
    shipped_ids = [o.pk for o, _, _ in ready]
    moved = Order.objects.filter(pk__in=shipped_ids, status=OrderStatus.PENDING_SHIPMENT).update(
        status=OrderStatus.SHIPPED,
        shipped_at=now,
        auto_complete_at=now + timedelta(days=days),
        carrier=Case(*(When(pk=o.pk, then=Value(w.carrier)) for o, w, _ in ready)),
        tracking_number=Case(*(When(pk=o.pk, then=Value(w.tracking_number)) for o, w, _ in ready)),
    )
    if moved != len(ready):
        raise InvalidTransition(_("订单状态已变化，请刷新后重试"))  # cannot happen with the rows locked
    sent = [(parcel, o, w) for parcel, (o, w, _) in zip(parcels, ready, strict=True)]
    actor = event_actor(staff)
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order=o,
            kind="shipped",
            actor_kind=ActorKind.STAFF,
            actor=actor,
            **event_line(
                *_shipped_line(parcels_before[o.pk] + 1, w.carrier, w.tracking_number),
                carrier=w.carrier,
                tracking_number=w.tracking_number,
                parcel_id=parcel.pk,
            ),
        )
        for parcel, o, w in sent
    )
    notices.parcels_shipped(
        (o.buyer_id, o.pk, o.number, carrier_record_name(w.carrier), w.tracking_number, parcel.pk)
        for parcel, o, w in sent
    )
    webhooks.parcels_shipped(
        (
            (o.pk, o.number, parcel.pk, w.carrier, w.tracking_number, OrderStatus.SHIPPED)
            for parcel, o, w in sent
        ),
        now,
    )
    return refused


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
