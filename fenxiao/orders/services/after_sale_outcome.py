"""An after-sale's history, and what a refund, once counted on its lines, does to the
order: the postage of the last units of an unshipped order goes back with it, and an order
none of which has shipped is closed when nothing is left to ship (`after_sales`)."""

from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from fenxiao.core.money import format_fen

from ..models import (
    CLOSED_BY_REFUND,
    CLOSED_BY_REFUND_REASON,
    ActorKind,
    AfterSale,
    AfterSaleLog,
    Order,
    OrderEvent,
    OrderStatus,
)
from . import after_sale_checks as checks
from . import hooks, shipments
from .events import log_event, text_arg, transition


def note(
    after_sale: AfterSale, kind: str, actor_kind: str, message: str, actor=None, *, args: dict | None = None
) -> AfterSaleLog:
    """One line of the after-sale's history (what the buyer and staff both see). `message`
    is the line's template (a Chinese msgid) with `args`; for a message, what was typed
    (kept as typed: no template, so never looked up in a catalog)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    line = (
        {"message": message[:500], "data": {}}
        if AfterSaleLog.typed(kind, message)
        else log_line(message, args)
    )
    return AfterSaleLog.objects.create(
        after_sale=after_sale, kind=kind, actor_kind=actor_kind, actor=actor, **line
    )


def log_line(template: str, args: dict | None = None) -> dict:
    """A history line's `message` and `data` (for bulk inserts too): the template and its
    arguments kept in `data` (`AfterSaleLog.text` renders them in the reader's language),
    the message the Chinese sentence."""
    args = args or {}
    with translation.override("zh-hans"):
        message = OrderEvent.render_text(template, args) if args else template
    return {"message": message[:500], "data": {OrderEvent.TEMPLATE: template, OrderEvent.ARGS: args}}


def add_postage_if_nothing_left(order: Order, after_sale: AfterSale) -> None:
    """A refund (its units just counted on the lines) that leaves nothing to ship on an
    order none of which has shipped makes the order a cancellation: the postage still held
    goes back with it. Decided here, under the order's lock, not when the request was filed:
    a request for the other units may since have been rejected, or approved."""
    if order.status != OrderStatus.PENDING_SHIPMENT or order.parcels.exists():
        return
    if any(shipments.remaining_quantities(order).values()):
        return
    extra = checks.shipping_refundable(order)
    if extra <= 0:
        return
    AfterSale.objects.filter(pk=after_sale.pk).update(
        shipping_amount=F("shipping_amount") + extra, amount=F("amount") + extra
    )
    after_sale.shipping_amount += extra
    after_sale.amount += extra
    note(
        after_sale,
        "shipping_added",
        ActorKind.SYSTEM,
        gettext_noop("订单商品已全部退款，运费 %(shipping)s 一并退回，共退 %(amount)s"),
        args={"shipping": format_fen(extra), "amount": format_fen(after_sale.amount)},
    )


def close_if_nothing_left(order: Order, after_sale: AfterSale) -> None:
    """An order none of which has shipped, refunded in full or with nothing left to ship:
    closed as the buyer's cancellation closes it, and promotions give back what it took
    (flash stock, the buyer's allowance, the coupon, a group seat)."""
    if order.parcels.exists():
        return
    in_full = order.refunded_amount >= order.paid_amount
    if not in_full and any(shipments.remaining_quantities(order).values()):
        return
    what = CLOSED_BY_REFUND[0] if in_full else CLOSED_BY_REFUND[1]
    reason = CLOSED_BY_REFUND_REASON % {"what": what, "reason": after_sale.reason}
    transition(order, OrderStatus.CANCELLED, cancelled_at=timezone.now(), cancel_reason=reason[:200])
    log_event(
        order,
        "cancelled",
        ActorKind.SYSTEM,
        gettext_noop("未发货订单全额退款，订单已关闭")
        if in_full
        else gettext_noop("未发货订单商品已全部退款，订单已关闭"),
    )
    hooks.orders_cancelled([order.pk])
    if not in_full:
        hooks.order_closed_unsold(order)


# --- the order log's lines for the after-sale's steps (templates, see `events`) ----------

# A return approved, by who approved it (`after_sales.approve`).
RETURN_APPROVED = {
    "商家": gettext_noop("商家同意退货 %(after_sale)s，等待买家寄回"),
    "超时未处理，系统自动": gettext_noop("超时未处理，系统自动同意退货 %(after_sale)s，等待买家寄回"),
    "系统": gettext_noop("系统同意退货 %(after_sale)s，等待买家寄回"),
}
# A returned parcel received, by (received by staff, goods back in stock).
RECEIVED = {
    (True, False): gettext_noop("商家已确认收货（售后 %(after_sale)s），退款 %(amount)s 原路退回"),
    (True, True): gettext_noop(
        "商家已确认收货（售后 %(after_sale)s），退货商品已入库，退款 %(amount)s 原路退回"
    ),
    (False, False): gettext_noop(
        "商家超时未确认，系统自动确认收货（售后 %(after_sale)s），退款 %(amount)s 原路退回"
    ),
    (False, True): gettext_noop(
        "商家超时未确认，系统自动确认收货（售后 %(after_sale)s），退货商品已入库，退款 %(amount)s 原路退回"
    ),
}


# Who filed a request (its `requested_by`) → the line that says so.
REQUESTED_LINE = {
    ActorKind.STAFF: gettext_noop("商家发起%(kind)s %(amount)s：%(reason)s"),
    ActorKind.SYSTEM: gettext_noop("系统发起%(kind)s %(amount)s：%(reason)s"),
    ActorKind.BUYER: gettext_noop("买家申请%(kind)s %(amount)s：%(reason)s"),
}


def requested_line(after_sale: AfterSale, requested_by: str) -> dict:
    """A request filed: its kind and a reason from the list by their codes, a reason typed
    (staff, older clients) as typed."""
    args = {
        "kind": {"after_sale_kind": after_sale.kind},
        "amount": format_fen(after_sale.amount),
        "reason": {"after_sale_reason": after_sale.reason_code}
        if after_sale.reason_code
        else text_arg(after_sale.reason),
    }
    return {"message": REQUESTED_LINE[requested_by], "args": args}


# --- the after-sale's history lines (AfterSaleLog; templates, as the order log's) ---------


def note_requested(after_sale: AfterSale, requested_by: str, actor) -> AfterSaleLog:
    """A request filed, as its history's first line: the order log's line, and the buyer's
    description (as typed) after it."""
    line = requested_line(after_sale, requested_by)
    if after_sale.description:
        line["message"] = (
            gettext_noop("商家发起%(kind)s %(amount)s：%(reason)s。%(description)s")
            if requested_by == ActorKind.STAFF
            else gettext_noop("买家申请%(kind)s %(amount)s：%(reason)s。%(description)s")
        )
        line["args"]["description"] = after_sale.description
    return note(after_sale, "requested", requested_by, actor=actor, **line)


# Who approved (`after_sales.approve`'s "by") → the line for a return, and for a refund.
RETURN_APPROVED_NOTE = {
    "商家": gettext_noop("商家同意退货，请在%(days)s天内寄回商品并填写退货物流。退货地址：%(address)s"),
    "超时未处理，系统自动": gettext_noop(
        "超时未处理，系统自动同意退货，请在%(days)s天内寄回商品并填写退货物流。退货地址：%(address)s"
    ),
    "系统": gettext_noop("系统同意退货，请在%(days)s天内寄回商品并填写退货物流。退货地址：%(address)s"),
}
REFUND_APPROVED_NOTE = {
    "商家": gettext_noop("商家同意退款，%(amount)s 原路退回"),
    "超时未处理，系统自动": gettext_noop("超时未处理，系统自动同意退款，%(amount)s 原路退回"),
    "系统": gettext_noop("系统同意退款，%(amount)s 原路退回"),
}
# A returned parcel received, by (received by staff, goods back in stock).
RECEIVED_NOTE = {
    (True, False): gettext_noop("商家已确认收货，%(amount)s 原路退回"),
    (True, True): gettext_noop("商家已确认收货，退货商品已入库，%(amount)s 原路退回"),
    (False, False): gettext_noop("商家超时未确认，系统自动确认收货，%(amount)s 原路退回"),
    (False, True): gettext_noop("商家超时未确认，系统自动确认收货，退货商品已入库，%(amount)s 原路退回"),
}
WITHDRAWN_NOTE = gettext_noop("买家撤销了售后申请")
SHIPPED_BACK_NOTE = gettext_noop("买家已寄回商品：%(carrier)s %(tracking_number)s")
REJECTED_NOTE = gettext_noop("商家拒绝售后：%(reason)s")
RECEIPT_REFUSED_NOTE = gettext_noop("商家拒绝收货：%(reason)s")
REFUNDED_NOTE = gettext_noop("退款成功，%(amount)s 已原路退回")
