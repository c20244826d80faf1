"""Order event log and shared helpers for moving an order between states."""

import secrets

from django.utils import timezone

from fenxiao.core.errors import InvalidTransition

from ..models import ORDER_FLOW, ActorKind, Order, OrderEvent


def log_event(order: Order, kind: str, actor_kind: str, message: str, actor=None, **data) -> OrderEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return OrderEvent.objects.create(
        order=order, kind=kind, actor_kind=actor_kind, actor=actor, message=message[:300], data=data
    )


def new_number(prefix: str = "") -> str:
    """Sortable, unguessable numbers: 20261124153012 + 6 random digits."""
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    return f"{prefix}{stamp}{secrets.randbelow(10**6):06d}"


def transition(order: Order, target: str, **fields) -> None:
    """Move an order to `target` if, and only if, it is still in the state we read.

    The conditional UPDATE makes two racing requests safe: the loser changes nothing and
    gets a clear error instead of overwriting the winner.
    """
    ORDER_FLOW.check(order.status, target)
    moved = Order.objects.filter(pk=order.pk, status=order.status).update(status=target, **fields)
    if not moved:
        raise InvalidTransition("订单状态已变化，请刷新后重试")
    order.status = target
    for name, value in fields.items():
        setattr(order, name, value)


def actor_kind_for(user) -> str:
    return ActorKind.STAFF if getattr(user, "is_staff", False) else ActorKind.BUYER
