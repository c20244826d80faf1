"""商家备注: staff's own note on an order (加急, 送赠品, 客户要求周五发货), kept on the
order for the backend list, the order page and the packing slip, never shown to the buyer."""

from django.db import transaction
from django.utils.translation import gettext as _

from ..errors import MerchantNoteInvalid
from ..models import ActorKind, Order
from .events import log_event

MAX_LENGTH = Order._meta.get_field("merchant_note").max_length


@transaction.atomic
def set_merchant_note(order: Order, staff, note: str) -> Order:
    """Write, change or (with an empty note) clear the note, in any state of the order. The
    change is logged for staff only: the buyer's order history does not show it."""
    note = " ".join((note or "").split())
    if len(note) > MAX_LENGTH:
        raise MerchantNoteInvalid(_("商家备注最多 %(max)s 个字") % {"max": MAX_LENGTH})
    order = Order.objects.select_for_update().get(pk=order.pk)
    if note == order.merchant_note:
        return order
    order.merchant_note = note
    order.save(update_fields=["merchant_note"])
    log_event(
        order,
        "merchant_note",
        ActorKind.STAFF,
        f"商家备注：{note}" if note else "商家清空了备注",
        actor=staff,
        buyer_visible=False,
    )
    return order
