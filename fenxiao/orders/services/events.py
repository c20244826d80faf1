"""Order event log and shared helpers for moving an order between states.

An event's line reads in its reader's language: it is written as a template (a Chinese
msgid, marked with `gettext_noop` where it is written) and its arguments, kept in the row
(`OrderEvent.text` renders them), together with the finished Chinese sentence in
`message` for exports and search. Arguments that are words rather than values go in as
codes (`carrier_arg`, `text_arg` …, see `OrderEvent`), so they are translated too."""

import secrets

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import ActorKind, Order, OrderEvent


def log_event(
    order: Order,
    kind: str,
    actor_kind: str,
    message: str,
    actor=None,
    *,
    args: dict | None = None,
    buyer_visible=True,
    **data,
) -> OrderEvent:
    """`message` is the line's template; `args` its arguments when it has placeholders."""
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor_kind=actor_kind,
        actor=event_actor(actor),
        buyer_visible=buyer_visible,
        **event_line(message, args, **data),
    )


def event_line(template: str, args: dict | None = None, **data) -> dict:
    """An event's `message` and `data` for `template` with `args` (for bulk inserts too):
    the template and arguments kept in `data`, the message rendered in Chinese."""
    if not args:
        # Its own template: `OrderEvent.text` translates the message itself.
        return {"message": template[:300], "data": data}
    with translation.override("zh-hans"):
        message = OrderEvent.render_text(template, args)
    return {"message": message[:300], "data": {**data, OrderEvent.TEMPLATE: template, OrderEvent.ARGS: args}}


def carrier_arg(code: str) -> dict:
    """A carrier as an event argument: its code, named in the reader's language."""
    return {"carrier": code}


def text_arg(value: str):
    """A text the system may have written (a default cancel reason) as an event argument:
    translated when a catalog has it, as typed otherwise (a person's own words)."""
    return {"text": value} if value else value


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
