"""Parcels of the demo's shipped orders get the trail a tracking service would have pushed
by now: completed orders were signed for before the buyer confirmed, orders still on
their way are as far along as the time since shipping says, and a few were signed for
already (their auto-complete date brought forward by the rule in `orders.services.tracking`).

Written as rows after the orders' timelines are set, like the rest of the demo's history.
The parcels' subscriptions are marked answered, so the sandbox does not start the journey
again when the task consumer comes up.
"""

import hashlib
from datetime import timedelta
from random import Random

from django.utils import timezone

from fenxiao.orders.logistics.sandbox import STEPS
from fenxiao.orders.models import (
    Order,
    OrderSettings,
    OrderStatus,
    Parcel,
    SubscriptionStatus,
    TrackingEvent,
    TrackingState,
    TrackingSubscription,
)
from fenxiao.shipping.carriers import carrier_name

HOUR = 3600
# Hours from shipping to each step of the sandbox's journey (揽收 … 签收).
STEP_HOURS = [(1, 3), (4, 10), (18, 30), (30, 40), (34, 48)]


def _moments(rng: Random, shipped, completed, now) -> list:
    """When each step happened: a completed order's parcel was signed for before the buyer
    confirmed; one still on its way is as far along as the hours since shipping allow."""
    if completed:
        span = completed - shipped
        return [shipped + span * share for share in (0.05, 0.2, 0.5, 0.75, 0.9)]
    moments, last = [], shipped
    for low, high in STEP_HOURS:
        last = max(last, shipped + timedelta(seconds=rng.uniform(low, high) * HOUR))
        if last >= now:
            break
        moments.append(last)
    return moments


def add_trails(seed: int = 2026_12) -> int:
    """Give every demo parcel its trail so far; returns how many trail lines were written.
    Its own random sequence, so the rest of the demo comes out as it did before."""
    rng = Random(seed)
    settings = OrderSettings.current()
    now = timezone.now()
    events: list[TrackingEvent] = []
    parcels = Parcel.objects.select_related("order").filter(
        order__status__in=[OrderStatus.SHIPPED, OrderStatus.COMPLETED]
    )
    for parcel in parcels:
        order = parcel.order
        shipped = order.shipped_at
        Parcel.objects.filter(pk=parcel.pk).update(shipped_at=shipped)
        moments = _moments(rng, shipped, order.completed_at, now)
        to = order.city or "收件城市"
        name = carrier_name(parcel.carrier)
        for (state, location, text), when in zip(STEPS, moments, strict=False):
            context = text.format(carrier=name, to=to)
            events.append(
                TrackingEvent(
                    parcel=parcel,
                    occurred_at=when,
                    state=state,
                    context=context,
                    location=location.format(to=to),
                    digest=hashlib.sha256(f"{state}\n{context}".encode()).hexdigest(),
                )
            )
        state = STEPS[len(moments) - 1][0] if moments else TrackingState.WAITING
        signed_at = moments[-1] if len(moments) == len(STEPS) else None
        Parcel.objects.filter(pk=parcel.pk).update(
            tracking_state=state, tracking_updated_at=moments[-1] if moments else None, signed_at=signed_at
        )
        if signed_at and order.status == OrderStatus.SHIPPED:
            candidate = signed_at + timedelta(days=settings.signed_auto_complete_days)
            if order.auto_complete_at is None or candidate < order.auto_complete_at:
                Order.objects.filter(pk=order.pk).update(auto_complete_at=candidate)
    TrackingEvent.objects.bulk_create(events, ignore_conflicts=True)
    TrackingSubscription.objects.update(
        status=SubscriptionStatus.SUBSCRIBED, subscribed_at=now, next_attempt_at=None
    )
    return len(events)
