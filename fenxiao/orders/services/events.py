"""Order event log and shared helpers for moving an order between states."""

import secrets

from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ActorKind, Order, OrderEvent


def log_event(
    order: Order, kind: str, actor_kind: str, message: str, actor=None, *, buyer_visible=True, **data
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor_kind=actor_kind,
        actor=event_actor(actor),
        message=message[:300],
        data=data,
        buyer_visible=buyer_visible,
    )


def buyer_events(order: Order) -> list[OrderEvent]:
    """The order's history as its buyer sees it: staff-only events (商家备注) left out. Reads
    the prefetched events when there are any."""
    return [event for event in order.events.all() if event.buyer_visible]


def event_actor(actor):
    """Who an event names: a signed-in user, else nobody (an anonymous request, the system)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def new_number(prefix: str = "") -> str:
    """Sortable, unguessable numbers: 20261124153012 + 6 random digits."""
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    return f"{prefix}{stamp}{secrets.randbelow(10**6):06d}"


def transition(order: Order, target: str, **fields) -> None:
    """Move an order to `target` if it is still in the state we read (see StateMachine.move),
    under its own flow (a pickup order skips the parcel: `models.PICKUP_FLOW`)."""
    order.flow.move(order, target, stale=_("订单状态已变化，请刷新后重试"), **fields)


def actor_kind_for(user) -> str:
    return ActorKind.STAFF if getattr(user, "is_staff", False) else ActorKind.BUYER
