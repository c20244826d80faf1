"""The events the mall emits to merchants' webhook endpoints.

Each function is called by the service that makes the fact true, inside its transaction,
with plain values (this app sits below orders, payments and distribution and imports none
of them). Each fact has one `source_key`, unique on `Event`, so a service called twice for
one change writes one event. Nothing is written when no active endpoint subscribes to the
type: the cost for a shop without webhooks is one small query.

The payloads are small and stable (README.md lists them): ids, numbers, amounts in fen,
status and ISO 8601 times. A receiver reads more through the API if it needs it.
"""

from collections.abc import Iterable
from itertools import islice

from django.utils import timezone

from ..models import Delivery, Endpoint, Event, EventType
from .delivery import QUEUE_GRACE, schedule

CHUNK = 500


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def subscribers(event_type: str) -> list[int]:
    """Ids of the active endpoints that receive `event_type` (one query; few endpoints)."""
    rows = Endpoint.objects.filter(is_active=True).values_list("pk", "events")
    return [pk for pk, events in rows if event_type in (events or [])]


def emit(event_type: str, source_key: str, payload: dict) -> None:
    emit_many(event_type, [(source_key, payload)])


def emit_many(event_type: str, facts: Iterable[tuple[str, dict]]) -> int:
    """Write the events of `facts` ((source key, payload), any iterable, consumed lazily and
    only if someone listens) with one pending delivery per subscribed endpoint, a fixed
    number of statements per chunk; the deliveries go to a worker after commit."""
    endpoints = subscribers(event_type)
    if not endpoints:
        return 0
    handled = 0
    facts = iter(facts)
    while group := list(islice(facts, CHUNK)):
        handled += len(group)
        Event.objects.bulk_create(
            [Event(type=event_type, source_key=key[:120], payload=payload) for key, payload in group],
            ignore_conflicts=True,  # the fact was already reported: one event per fact
        )
        ids = list(
            Event.objects.filter(source_key__in=[key[:120] for key, _ in group])
            .order_by()
            .values_list("pk", flat=True)
        )
        due = timezone.now() + QUEUE_GRACE
        Delivery.objects.bulk_create(
            [
                Delivery(event_id=pk, endpoint_id=endpoint, next_attempt_at=due)
                for pk in ids
                for endpoint in endpoints
            ],
            ignore_conflicts=True,
        )
        schedule(ids)
    return handled


# --- The business events -------------------------------------------------------------------


def order_paid(*, order_id: int, number: str, buyer_id: int, total: int, paid_amount: int, paid_at) -> None:
    emit(
        EventType.ORDER_PAID,
        f"order-paid:{order_id}",
        {
            "order_id": order_id,
            "order_number": number,
            "buyer_id": buyer_id,
            "status": "pending_shipment",
            "total": total,
            "paid_amount": paid_amount,
            "paid_at": _iso(paid_at),
        },
    )


def order_shipped(
    *,
    order_id: int,
    number: str,
    parcel_id: int,
    carrier: str,
    tracking_number: str,
    status: str,
    shipped_at,
) -> None:
    """One event per parcel; `status` is "shipped" once the last parcel left, else still
    "pending_shipment" (a partial shipment)."""
    parcels_shipped([(order_id, number, parcel_id, carrier, tracking_number, status)], shipped_at)


def parcels_shipped(parcels: Iterable[tuple[int, str, int, str, str, str]], shipped_at) -> int:
    """Parcels that left at `shipped_at` (one, or a batch shipment's chunk): (order id,
    order number, parcel id, carrier code, tracking number, order status) each."""
    return emit_many(
        EventType.ORDER_SHIPPED,
        (
            (
                f"order-shipped:{order_id}:{parcel_id}",
                {
                    "order_id": order_id,
                    "order_number": number,
                    "parcel_id": parcel_id,
                    "carrier": carrier,
                    "tracking_number": tracking_number,
                    "status": status,
                    "shipped_at": _iso(shipped_at),
                },
            )
            for order_id, number, parcel_id, carrier, tracking_number, status in parcels
        ),
    )


def orders_completed(orders: Iterable[tuple[int, str]], completed_at) -> int:
    """Orders completed (the buyer, or the auto-complete sweep for a chunk): (id, number)."""
    return emit_many(
        EventType.ORDER_COMPLETED,
        (
            (
                f"order-completed:{order_id}",
                {
                    "order_id": order_id,
                    "order_number": number,
                    "status": "completed",
                    "completed_at": _iso(completed_at),
                },
            )
            for order_id, number in orders
        ),
    )


def order_refunded(
    *,
    order_id: int,
    number: str,
    after_sale_id: int,
    after_sale_number: str,
    amount: int,
    order_refunded_amount: int,
    status: str,
    refunded_at,
) -> None:
    """`status` is the order's when the money went back: a refund can close an unshipped
    order ("cancelled") or leave a partly shipped one nothing to ship ("shipped")."""
    emit(
        EventType.ORDER_REFUNDED,
        f"order-refunded:{after_sale_id}",
        {
            "order_id": order_id,
            "order_number": number,
            "after_sale_id": after_sale_id,
            "after_sale_number": after_sale_number,
            "amount": amount,
            "order_refunded_amount": order_refunded_amount,
            "status": status,
            "refunded_at": _iso(refunded_at),
        },
    )


def commission_settled(*, batch_id: int, settled_at, totals: Iterable[tuple[int, int, int]]) -> int:
    """A settlement batch closed: one event per distributor paid, (distributor id, user id,
    net amount), streamed from the caller's grouped query (nothing per commission)."""
    return emit_many(
        EventType.COMMISSION_SETTLED,
        (
            (
                f"commission-settled:{batch_id}:{distributor_id}",
                {
                    "batch_id": batch_id,
                    "distributor_id": distributor_id,
                    "user_id": user_id,
                    "amount": amount,
                    "settled_at": _iso(settled_at),
                },
            )
            for distributor_id, user_id, amount in totals
        ),
    )


def withdrawal_paid(
    *,
    withdrawal_id: int,
    number: str,
    distributor_id: int,
    amount: int,
    fee: int,
    payout: int,
    method: str,
    paid_at,
) -> None:
    emit(
        EventType.WITHDRAWAL_PAID,
        f"withdrawal-paid:{withdrawal_id}",
        {
            "withdrawal_id": withdrawal_id,
            "withdrawal_number": number,
            "distributor_id": distributor_id,
            "amount": amount,
            "fee": fee,
            "payout": payout,
            "method": method,
            "status": "paid",
            "paid_at": _iso(paid_at),
        },
    )


def distributor_approved(*, distributor_id: int, user_id: int, code: str, approved_at) -> None:
    # An applicant rejected, who applies again and is approved, is approved a second time:
    # each decision is its own fact (keyed by its time, as the notices are).
    stamp = timezone.localtime(approved_at).strftime("%Y%m%d%H%M%S%f")
    emit(
        EventType.DISTRIBUTOR_APPROVED,
        f"distributor-approved:{distributor_id}:{stamp}",
        {
            "distributor_id": distributor_id,
            "user_id": user_id,
            "code": code,
            "status": "active",
            "approved_at": _iso(approved_at),
        },
    )
