"""After-sale: refund only or return and refund, full or partial, by buyer or by staff.

Amounts are checked against what each line actually paid, minus what is already refunded
or being refunded, with the order row locked, so refunds never exceed what was paid.

仅退款 is one step for staff: approve → the refund runs → refunded. 退货退款 waits for the
goods: approve (待买家退货, the buyer has `return_ship_days` to ship back) → the buyer
enters carrier and tracking number (待商家收货) → staff confirm receipt, choosing whether
the units go back on sale → the refund runs → refunded. Staff may refuse the parcel (not
as described) with a reason: the request is rejected and the lines are free again, so the
buyer can file a new request while the after-sale window is open (that is how the two
sides go back to negotiating). Every step writes the after-sale's history (AfterSaleLog)
next to the order's event.

What goes back on sale: a return's goods when staff receive them and say so; for a refund
only, the units not yet in a parcel (still in the warehouse) by default, never those sent
unless staff say so when they refund. What closes the order: a refund that leaves nothing
to ship on an order none of which has shipped cancels it, as the buyer's cancellation
would (the postage goes back with the request that takes the last units, and promotions
give back what the order took); on a partly shipped order it moves the order to 已发货,
as its last parcel would have.

Deadlines (OrderSettings), run by `sweep_deadlines`: a request the merchant leaves
unanswered is approved by the system; a return never shipped back is closed; a parcel
never confirmed is received (without restock: nobody checked it) and refunded.

A return is approved only when the shop has a return address (订单设置 → 退货地址): the
approval tells the buyer where to send the goods, so without one every path (backend, staff
API, a staff-initiated return, the sweep) is refused alike and the request waits until the
address is filled in. A refund only needs no address.
"""

import logging
import re
import unicodedata
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from fenxiao.core.errors import InvalidTransition
from fenxiao.core.money import format_fen
from fenxiao.notices.services import events as notices
from fenxiao.shipping.carriers import find_carrier
from fenxiao.webhooks.services import events as webhooks

from ..errors import (
    AfterSaleFinished,
    AfterSaleInvalid,
    AfterSaleNotFound,
    RefundExceedsPaid,
    ReturnShipmentInvalid,
)
from ..models import (
    AFTER_SALE_FLOW,
    ActorKind,
    AfterSale,
    AfterSaleKind,
    AfterSaleLine,
    AfterSaleLog,
    AfterSaleStatus,
    Order,
    OrderLine,
    OrderSettings,
    OrderStatus,
)
from . import after_sale_checks as checks
from . import after_sale_outcome as outcome
from . import evidence, hooks, shipments, tenders
from .events import actor_kind_for, carrier_arg, log_event, new_number

logger = logging.getLogger(__name__)


class ReturnAddressMissing(AfterSaleInvalid):
    code = "RETURN_ADDRESS_MISSING"
    message = gettext_lazy(
        "尚未设置退货地址，不能同意退货：请先在“订单设置”中填写退货地址，买家才知道把商品寄回哪里"
    )
    status = 409


def return_address_missing(rules: OrderSettings | None = None) -> bool:
    """Whether a return cannot be approved yet: the shop has no address to send goods back to."""
    rules = rules or OrderSettings.current()
    return not (rules.return_address or "").strip()


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def request_after_sale(
    order: Order,
    actor,
    *,
    kind: str,
    reason: str = "",
    lines: list[dict],
    restock: bool | None = None,
    shipping_amount: int = 0,
    reason_code: str | None = None,
    description: str = "",
    images=(),
) -> AfterSale:
    """`shipping_amount` refunds (part of) the shipping fee, which belongs to no line; a
    request that leaves nothing to ship on an order none of which has shipped takes all the
    postage left. `restock` None: the units not yet in a parcel go back on sale (a return's
    goods when received); True (staff): every unit of the request, e.g. a parcel refused at
    the door that came back. `images` are the buyer's uploaded photos (checked before
    anything is written)."""
    by_staff = actor_kind_for(actor) == ActorKind.STAFF
    # No one asked: the system refunds (a failed group buy). Recorded so, it reads 系统发起
    # and is not counted as the buyer's own refund (the risk check's refund ratio).
    requested_by = ActorKind.STAFF if by_staff else ActorKind.SYSTEM if actor is None else ActorKind.BUYER
    if kind not in AfterSaleKind.values:
        raise AfterSaleInvalid(_("售后类型有误"))
    description = (description or "").strip()
    if len(description) > 500:
        raise AfterSaleInvalid(_("问题描述最多500字"))
    checked = evidence.check_images(images)
    order = _lock_order(order)
    reason_code, reason = checks.reason_of(order, kind, reason_code, reason)
    checks.order_accepts(order, kind, by_staff)
    plan = checks.plan_lines(order, kind, lines, shipping_amount, by_staff=by_staff)
    if checks.closes_unshipped(order, plan):
        shipping_amount = checks.shipping_refundable(order)
    every_unit = restock is True
    if restock is None:
        # Goods that never left the warehouse, or come back, go back on sale by default.
        restock = kind == AfterSaleKind.RETURN_REFUND or any(
            checks.in_warehouse(order, [(line, qty) for line, qty, _ in plan]).values()
        )
    respond_days = OrderSettings.current().after_sale_respond_days
    after_sale = AfterSale.objects.create(
        number=new_number("AS"),
        order=order,
        kind=kind,
        reason=reason[:200],
        reason_code=reason_code,
        description=description,
        amount=sum(a for _, _, a in plan) + shipping_amount,
        shipping_amount=shipping_amount,
        restock=restock,
        requested_by=requested_by,
        created_by=actor,
        deadline=timezone.now() + timedelta(days=respond_days) if respond_days and not by_staff else None,
    )
    AfterSaleLine.objects.bulk_create(
        [
            AfterSaleLine(after_sale=after_sale, order_line=line, quantity=qty, amount=amount)
            for line, qty, amount in plan
        ]
    )
    log = outcome.note_requested(after_sale, requested_by, actor)
    evidence.save_images(after_sale, log, checked)
    log_event(
        order,
        "after_sale_requested",
        requested_by,
        actor=actor,
        after_sale=after_sale.number,
        **outcome.requested_line(after_sale, requested_by),
    )
    if by_staff:
        after_sale = approve(after_sale, actor, every_unit=every_unit)
    return after_sale


def get_for_update(after_sale: AfterSale) -> AfterSale:
    locked = AfterSale.objects.select_for_update().filter(pk=after_sale.pk).first()
    if locked is None:
        raise AfterSaleNotFound()
    return locked


def _move(after_sale: AfterSale, target: str, **fields) -> None:
    AFTER_SALE_FLOW.move(after_sale, target, stale=_("售后单状态已变化，请刷新后重试"), **fields)


def _due(after_sale: AfterSale, now) -> bool:
    return after_sale.deadline is not None and after_sale.deadline <= now


@transaction.atomic
def approve(
    after_sale: AfterSale, staff, *, due_at=None, restock: bool | None = None, every_unit: bool = False
) -> AfterSale:
    """Staff agree. Refund only: the refund starts now. A return: the buyer is to ship the
    goods back (nothing is refunded before the goods arrive). `staff` None is the system:
    `due_at` then says the merchant's deadline must have passed by then (the sweep).
    Refund only: `restock` True / False puts the units not yet in a parcel back on sale or
    not (None: as requested); `every_unit` (the request's own restock=True by staff) puts
    back every unit. A return's restock is decided when the goods arrive (`receive`)."""
    order = _lock_order(after_sale.order)
    after_sale = get_for_update(after_sale)
    if due_at is not None and not (
        after_sale.status == AfterSaleStatus.REQUESTED and _due(after_sale, due_at)
    ):
        raise InvalidTransition(_("售后单状态已变化，请刷新后重试"))
    actor_kind = ActorKind.STAFF if staff else ActorKind.SYSTEM
    by = "商家" if staff else ("超时未处理，系统自动" if due_at is not None else "系统")
    now = timezone.now()
    if after_sale.kind == AfterSaleKind.RETURN_REFUND:
        rules = OrderSettings.current()
        if return_address_missing(rules):
            raise ReturnAddressMissing()
        days = rules.return_ship_days
        _move(
            after_sale,
            AfterSaleStatus.AWAITING_RETURN,
            decided_by=staff,
            decided_at=now,
            deadline=now + timedelta(days=days),
        )
        address = rules.return_address_text
        outcome.note(
            after_sale,
            "approved",
            actor_kind,
            outcome.RETURN_APPROVED_NOTE[by],
            staff,
            args={"days": days, "address": address},
        )
        log_event(
            order,
            "after_sale_approved",
            actor_kind,
            outcome.RETURN_APPROVED[by],
            actor=staff,
            args={"after_sale": after_sale.number},
            after_sale=after_sale.number,
        )
        notices.after_sale_approved(
            buyer_id=order.buyer_id,
            after_sale_id=after_sale.pk,
            after_sale_number=after_sale.number,
            order_number=order.number,
            days=days,
            address=address,
        )
        return after_sale
    if restock is not None:
        after_sale.restock = restock
    _move(
        after_sale,
        AfterSaleStatus.APPROVED,
        decided_by=staff,
        decided_at=now,
        deadline=None,
        restock=after_sale.restock,
    )
    outcome.note(
        after_sale,
        "approved",
        actor_kind,
        outcome.REFUND_APPROVED_NOTE[by],
        staff,
        args={"amount": format_fen(after_sale.amount)},
    )
    log_event(
        order,
        "after_sale_approved",
        actor_kind,
        gettext_noop("同意售后 %(after_sale)s，退款 %(amount)s 原路退回"),
        actor=staff,
        args={"after_sale": after_sale.number, "amount": format_fen(after_sale.amount)},
        after_sale=after_sale.number,
    )
    return _start_refund(order, after_sale, every_unit=every_unit)


def _start_refund(order: Order, after_sale: AfterSale, *, every_unit: bool = False) -> AfterSale:
    """The money half of an approval: with the order and the after-sale locked and the
    after-sale just moved to approved, count the refund on its lines (never above what
    they paid), restock, close or ship the order if nothing is left to ship, and send the
    money back where it came from."""
    items = list(after_sale.lines.select_related("order_line"))
    restocked: dict[int, int] = {}
    if after_sale.restock:
        if every_unit or after_sale.kind == AfterSaleKind.RETURN_REFUND:
            restocked = {item.order_line_id: item.quantity for item in items}
        else:  # read before the refund is counted on the lines
            restocked = checks.in_warehouse(order, [(item.order_line, item.quantity) for item in items])
    for item in items:
        line = item.order_line
        if item.amount > line.refundable_amount or item.quantity > line.quantity - line.refunded_quantity:
            raise RefundExceedsPaid(line_id=line.pk)
        OrderLine.objects.filter(pk=line.pk).update(
            refunded_amount=F("refunded_amount") + item.amount,
            refunded_quantity=F("refunded_quantity") + item.quantity,
        )
    outcome.add_postage_if_nothing_left(order, after_sale)
    if after_sale.amount > order.refundable_amount:
        raise RefundExceedsPaid(refundable=order.refundable_amount)
    Order.objects.filter(pk=order.pk).update(refunded_amount=F("refunded_amount") + after_sale.amount)
    order.refunded_amount += after_sale.amount
    quantities: dict[int, int] = {}
    for item in items:
        if restocked.get(item.order_line_id):
            sku_id = item.order_line.sku_id
            quantities[sku_id] = quantities.get(sku_id, 0) + restocked[item.order_line_id]
    if quantities:
        from .lifecycle import restore_order_stock  # lifecycle reaches after_sales the same way

        restore_order_stock(order, quantities)
    if order.status == OrderStatus.PENDING_SHIPMENT and not shipments.ship_if_nothing_left(order):
        outcome.close_if_nothing_left(order, after_sale)
    if order.status != OrderStatus.CANCELLED and order.refunded_amount >= order.paid_amount:
        hooks.order_refunded_in_full(order)
    if tenders.refund(order, after_sale.amount, reason=after_sale.reason, after_sale=after_sale) is None:
        # All of it went back to the store credit: nothing waits on the gateway.
        refund_succeeded(after_sale.pk)
        after_sale.refresh_from_db()
    hooks.refund_approved(order, after_sale.amount)
    return after_sale


def reject(after_sale: AfterSale, staff, *, reason: str) -> AfterSale:
    return _refuse(
        after_sale,
        staff,
        reason,
        at=AfterSaleStatus.REQUESTED,
        missing=_("请填写拒绝原因"),
        refusal=_("只有待处理的售后可以拒绝；已寄回的商品请使用拒绝收货"),
        kind="rejected",
        note=outcome.REJECTED_NOTE,
        event=gettext_noop("拒绝售后 %(after_sale)s：%(reason)s"),
    )


@transaction.atomic
def withdraw(after_sale: AfterSale, buyer) -> AfterSale:
    """The buyer takes the request back, before staff decide or before shipping the goods."""
    after_sale = get_for_update(after_sale)
    if after_sale.order.buyer_id != buyer.pk:
        raise AfterSaleNotFound()
    if after_sale.status == AfterSaleStatus.RETURN_SHIPPED:
        raise InvalidTransition(_("商品已寄回，不能撤销申请，请等待商家收货"))
    _move(after_sale, AfterSaleStatus.WITHDRAWN, deadline=None)
    outcome.note(after_sale, "withdrawn", ActorKind.BUYER, outcome.WITHDRAWN_NOTE, buyer)
    log_event(
        after_sale.order,
        "after_sale_withdrawn",
        ActorKind.BUYER,
        gettext_noop("买家撤销售后 %(after_sale)s"),
        actor=buyer,
        args={"after_sale": after_sale.number},
    )
    return after_sale


TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{6,40}$")


@transaction.atomic
def ship_back(after_sale: AfterSale, buyer, *, carrier: str, tracking_number: str) -> AfterSale:
    """The buyer has sent the goods back: carrier (code, name or short name) and tracking
    number. The merchant's receipt deadline starts now."""
    found = find_carrier(carrier or "")
    # Typed on a full-width keyboard (ＳＦ１２３ …), the ASCII number printed on the slip.
    tracking_number = re.sub(r"\s+", "", unicodedata.normalize("NFKC", tracking_number or ""))
    if found is None:
        raise ReturnShipmentInvalid(_("请选择物流公司"))
    if not TRACKING_NUMBER.match(tracking_number):
        raise ReturnShipmentInvalid(_("运单号应为6–40位字母或数字"))
    after_sale = get_for_update(after_sale)
    if after_sale.order.buyer_id != buyer.pk:
        raise AfterSaleNotFound()
    if after_sale.status != AfterSaleStatus.AWAITING_RETURN:
        raise InvalidTransition(_("当前售后状态不能填写退货物流"))
    now = timezone.now()
    days = OrderSettings.current().return_receive_days
    _move(
        after_sale,
        AfterSaleStatus.RETURN_SHIPPED,
        return_carrier=found.value,
        return_tracking_number=tracking_number,
        return_shipped_at=now,
        deadline=now + timedelta(days=days) if days else None,
    )
    waybill = {"carrier": carrier_arg(found.value), "tracking_number": tracking_number}
    outcome.note(after_sale, "shipped_back", ActorKind.BUYER, outcome.SHIPPED_BACK_NOTE, buyer, args=waybill)
    log_event(
        after_sale.order,
        "after_sale_shipped_back",
        ActorKind.BUYER,
        gettext_noop("买家寄回售后 %(after_sale)s 的商品：%(carrier)s %(tracking_number)s"),
        actor=buyer,
        args={"after_sale": after_sale.number, **waybill},
        after_sale=after_sale.number,
    )
    return after_sale


@transaction.atomic
def receive(after_sale: AfterSale, staff, *, restock: bool, due_at=None) -> AfterSale:
    """Staff confirm the returned goods arrived (and whether they go back on sale): the
    refund starts. `staff` None with `due_at` is the sweep's automatic receipt."""
    order = _lock_order(after_sale.order)
    after_sale = get_for_update(after_sale)
    if due_at is not None and not (
        after_sale.status == AfterSaleStatus.RETURN_SHIPPED and _due(after_sale, due_at)
    ):
        raise InvalidTransition(_("售后单状态已变化，请刷新后重试"))
    if after_sale.status != AfterSaleStatus.RETURN_SHIPPED:
        raise InvalidTransition(_("买家尚未寄回商品，不能确认收货"))
    actor_kind = ActorKind.STAFF if staff else ActorKind.SYSTEM
    now = timezone.now()
    _move(
        after_sale,
        AfterSaleStatus.APPROVED,
        received_at=now,
        restock=bool(restock),
        deadline=None,
        # The refund is granted now, by whoever received the parcel (the system when the
        # merchant let the deadline pass): the reports count it today.
        decided_at=now,
        decided_by=staff,
    )
    outcome.note(
        after_sale,
        "received",
        actor_kind,
        outcome.RECEIVED_NOTE[bool(staff), bool(restock)],
        staff,
        args={"amount": format_fen(after_sale.amount)},
    )
    log_event(
        order,
        "after_sale_received",
        actor_kind,
        outcome.RECEIVED[bool(staff), bool(restock)],
        actor=staff,
        args={"after_sale": after_sale.number, "amount": format_fen(after_sale.amount)},
        after_sale=after_sale.number,
    )
    return _start_refund(order, after_sale)


def refuse_receipt(after_sale: AfterSale, staff, *, reason: str) -> AfterSale:
    """The parcel came back but not as described: the request ends rejected (no refund),
    its lines are free again and the buyer may file a new request within the window."""
    return _refuse(
        after_sale,
        staff,
        reason,
        at=AfterSaleStatus.RETURN_SHIPPED,
        missing=_("请填写拒绝收货的原因"),
        refusal=_("只有买家已寄回的售后可以拒绝收货"),
        kind="receipt_refused",
        note=outcome.RECEIPT_REFUSED_NOTE,
        event=gettext_noop("拒绝收货 %(after_sale)s：%(reason)s"),
    )


@transaction.atomic
def _refuse(after_sale, staff, reason, *, at, missing, refusal, kind, note, event) -> AfterSale:
    """Staff end a request at step `at` without a refund (a request refused, or a parcel
    sent back refused): the lines are free again."""
    reason = (reason or "").strip()
    if not reason:
        raise AfterSaleInvalid(missing)
    after_sale = get_for_update(after_sale)
    if after_sale.status != at:
        raise InvalidTransition(refusal)
    _move(
        after_sale,
        AfterSaleStatus.REJECTED,
        decided_by=staff,
        decided_at=timezone.now(),
        reject_reason=reason[:200],
        deadline=None,
    )
    outcome.note(after_sale, kind, ActorKind.STAFF, note, staff, args={"reason": reason})
    log_event(
        after_sale.order,
        f"after_sale_{kind}",
        ActorKind.STAFF,
        event,
        actor=staff,
        args={"after_sale": after_sale.number, "reason": reason},
        after_sale=after_sale.number,
    )
    return after_sale


@transaction.atomic
def add_message(after_sale: AfterSale, actor, *, message: str, images=()) -> AfterSaleLog:
    """A message (and photos) in the negotiation, from the buyer or from staff."""
    message = (message or "").strip()
    if not message and not images:
        raise AfterSaleInvalid(_("请填写留言内容"))
    if len(message) > 500:
        raise AfterSaleInvalid(_("留言最多500字"))
    actor_kind = actor_kind_for(actor)
    after_sale = get_for_update(after_sale)
    if actor_kind == ActorKind.BUYER and after_sale.order.buyer_id != actor.pk:
        raise AfterSaleNotFound()
    # The buyer's page stops offering the box once the request has ended (`is_open`); the
    # same rule here, read under the lock, so an old page or a bare API call cannot add to
    # a closed case. Staff may still write: a note after the refund reaches the buyer.
    if actor_kind == ActorKind.BUYER and not after_sale.is_open:
        raise AfterSaleFinished()
    checked = evidence.check_images(images, already=after_sale.images.count())
    log = outcome.note(after_sale, "message", actor_kind, message or AfterSaleLog.IMAGES_ONLY, actor)
    evidence.save_images(after_sale, log, checked)
    return log


def refund_succeeded(after_sale_id: int) -> None:
    """The gateway has paid the refund back: close the after-sale and tell distribution."""
    order_id = AfterSale.objects.filter(pk=after_sale_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return
    # The order first, then the after-sale: the order every approval and receipt takes them
    # in, so a refund task finishing while the sweep (or staff) acts on the order never
    # holds one while waiting for the other.
    order = Order.objects.select_for_update().get(pk=order_id)
    after_sale = AfterSale.objects.select_for_update().filter(pk=after_sale_id).first()
    if after_sale is None or after_sale.status != AfterSaleStatus.APPROVED:
        return
    if after_sale.refunds.exclude(status="succeeded").exists():
        return
    _move(after_sale, AfterSaleStatus.REFUNDED, refunded_at=timezone.now())
    items = list(after_sale.lines.select_related("order_line"))
    outcome.note(
        after_sale,
        "refunded",
        ActorKind.SYSTEM,
        outcome.REFUNDED_NOTE,
        args={"amount": format_fen(after_sale.amount)},
    )
    log_event(
        order,
        "refunded",
        ActorKind.GATEWAY,
        gettext_noop("售后 %(after_sale)s 已退款 %(amount)s"),
        args={"after_sale": after_sale.number, "amount": format_fen(after_sale.amount)},
        after_sale=after_sale.number,
    )
    notices.refund_done(
        buyer_id=order.buyer_id,
        after_sale_id=after_sale.pk,
        after_sale_number=after_sale.number,
        order_number=order.number,
        amount=after_sale.amount,
    )
    webhooks.order_refunded(
        order_id=order.pk,
        number=order.number,
        after_sale_id=after_sale.pk,
        after_sale_number=after_sale.number,
        amount=after_sale.amount,
        order_refunded_amount=order.refunded_amount,
        status=order.status,
        refunded_at=after_sale.refunded_at,
    )
    hooks.lines_refunded(order, [(i.order_line, i.amount, i.quantity) for i in items])


def start_full_refund(order: Order, actor, *, reason: str) -> Order:
    """Cancel a paid, unshipped order: everything refunded, everything back in stock."""
    with transaction.atomic():
        locked = _lock_order(order)
        if locked.status != OrderStatus.PENDING_SHIPMENT:
            raise InvalidTransition(_("只有已付款未发货的订单可以取消并全额退款"))
        if locked.parcels.exists():
            # Checked again under the lock: a parcel that left while the cancel was on its way
            # is with the buyer, and neither refunded nor restocked by a cancel.
            raise InvalidTransition(
                _("订单已部分发货，不能整单取消，请申请售后"), code="ORDER_PARTLY_SHIPPED"
            )
        # Every line with money or units left: a line that cost nothing is restocked too.
        lines = [
            {"line_id": line.pk}
            for line in locked.lines.all()
            if line.refundable_amount > 0 or line.quantity > line.refunded_quantity
        ]
        after_sale = request_after_sale(
            locked,
            actor,
            kind=AfterSaleKind.REFUND_ONLY,
            reason=reason,
            lines=lines,
            restock=True,
            shipping_amount=checks.shipping_refundable(locked),
        )
        if after_sale.status == AfterSaleStatus.REQUESTED:
            # The buyer's own cancellation of an unshipped order needs no review.
            approve(after_sale, None)
    order.refresh_from_db()
    return order
