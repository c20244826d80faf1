"""商家备注: staff's own note on an order (加急, 送赠品, 客户要求周五发货), kept on the
order for the backend list, the order page and the packing slip, never shown to the buyer."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..errors import MerchantNoteInvalid
from ..models import ActorKind, Order, OrderEvent
from .events import event_actor, event_line, log_event

MAX_LENGTH = Order._meta.get_field("merchant_note").max_length
# 批量备注 takes a page of selected orders at a time; a bigger batch is refused, not cut.
MAX_BATCH = 500


def clean_note(note: str) -> str:
    note = " ".join((note or "").split())
    if len(note) > MAX_LENGTH:
        raise MerchantNoteInvalid(_("商家备注最多 %(max)s 个字") % {"max": MAX_LENGTH})
    return note


def _log_line(note: str) -> tuple[str, dict | None]:
    """The log line's template and arguments: the note as typed, the words around it in
    the reader's language."""
    if not note:
        return gettext_noop("商家清空了备注"), None
    return gettext_noop("商家备注：%(note)s"), {"note": note}


@transaction.atomic
def set_merchant_note(order: Order, staff, note: str) -> Order:
    """Write, change or (with an empty note) clear the note, in any state of the order. The
    change is logged for staff only: the buyer's order history does not show it."""
    note = clean_note(note)
    order = Order.objects.select_for_update().get(pk=order.pk)
    if note == order.merchant_note:
        return order
    order.merchant_note = note
    order.save(update_fields=["merchant_note"])
    template, args = _log_line(note)
    log_event(order, "merchant_note", ActorKind.STAFF, template, actor=staff, args=args, buyer_visible=False)
    return order


@transaction.atomic
def set_merchant_note_many(order_ids, staff, note: str) -> int:
    """批量备注: the same note on every order of `order_ids` (it replaces theirs), set-based:
    one update for the orders whose note changes and one insert of their log lines.
    Returns how many changed; the others already had exactly this note."""
    note = clean_note(note)
    order_ids = list(order_ids)
    if len(order_ids) > MAX_BATCH:
        raise MerchantNoteInvalid(_("一次最多备注 %(max)s 个订单，请分批选择") % {"max": MAX_BATCH})
    # Locked in id order, as every batch over orders locks them, so batches never deadlock.
    changed = list(
        Order.objects.select_for_update()
        .filter(pk__in=order_ids)
        .exclude(merchant_note=note)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not changed:
        return 0
    Order.objects.filter(pk__in=changed).update(merchant_note=note)
    actor, line = event_actor(staff), event_line(*_log_line(note), batch=True)
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order_id=pk,
            kind="merchant_note",
            actor_kind=ActorKind.STAFF,
            actor=actor,
            buyer_visible=False,
            **line,
        )
        for pk in changed
    )
    return len(changed)
