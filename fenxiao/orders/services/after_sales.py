"""After-sale: refund only or return and refund, full or partial, by buyer or by staff.

Amounts are checked against what each line actually paid, minus what is already refunded
or being refunded, with the order row locked, so refunds never exceed what was paid.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from fenxiao.catalog.services.stock import restore_stock
from fenxiao.core.errors import InvalidTransition
from fenxiao.core.money import format_fen
from fenxiao.notices.services import events as notices

from ..errors import AfterSaleInvalid, AfterSaleNotFound, AfterSaleOpen, RefundExceedsPaid
from ..models import (
    AFTER_SALE_FLOW,
    OPEN_AFTER_SALE,
    ActorKind,
    AfterSale,
    AfterSaleKind,
    AfterSaleLine,
    AfterSaleStatus,
    Order,
    OrderLine,
    OrderSettings,
    OrderStatus,
)
from . import hooks, tenders
from .events import actor_kind_for, log_event, new_number, transition

PAID_STATES = (OrderStatus.PENDING_SHIPMENT, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _check_order_accepts(order: Order, kind: str, by_staff: bool) -> None:
    if order.status not in PAID_STATES:
        raise InvalidTransition("订单未付款或已关闭，不能申请售后")
    if kind == AfterSaleKind.RETURN_REFUND and order.status == OrderStatus.PENDING_SHIPMENT:
        raise AfterSaleInvalid("订单尚未发货，请选择仅退款")
    if order.status == OrderStatus.COMPLETED and not by_staff:
        days = OrderSettings.current().after_sale_days
        if order.completed_at and timezone.now() > order.completed_at + timedelta(days=days):
            raise AfterSaleInvalid(f"订单完成已超过{days}天，不能再申请售后")


def _shipping_refundable(order: Order) -> int:
    """Shipping not yet refunded or being refunded (it belongs to no line)."""
    taken = (
        AfterSale.objects.filter(order=order)
        .exclude(status__in=[AfterSaleStatus.REJECTED, AfterSaleStatus.WITHDRAWN])
        .aggregate(total=Sum("shipping_amount"))["total"]
        or 0
    )
    return max(order.shipping_fee - taken, 0)


def _units_covered(line: OrderLine, amount: int) -> int:
    """Units a refund of `amount` (fen) with no quantity named takes off the line.

    Rule: a unit counts as refunded only once the line's refunds, this one included, cover
    its whole paid price. Units refunded in total = floor(refunded total × quantity / paid),
    so ¥96.04 back on a 2-unit line that paid ¥192.08 refunds (and may restock) one unit,
    ¥50.00 refunds none (the buyer keeps both units and still paid for them), and two
    refunds of ¥48.02 refund one unit between them. An amount covering everything left on
    the line refunds every remaining unit. Units already refunded explicitly (a return for
    less than their price) are never counted twice. Commission follows the amount, not
    the units (see distribution.services.commissions.apply_line_refunds).
    """
    remaining_qty = line.quantity - line.refunded_quantity
    if amount <= 0 or line.paid_amount <= 0:
        return 0
    if amount >= line.refundable_amount:
        return remaining_qty
    covered = min(line.refunded_amount + amount, line.paid_amount) * line.quantity // line.paid_amount
    return max(0, min(covered - line.refunded_quantity, remaining_qty))


def _plan_lines(
    order: Order, kind: str, wanted: list[dict], shipping_amount: int = 0
) -> list[tuple[OrderLine, int, int]]:
    if shipping_amount < 0 or shipping_amount > _shipping_refundable(order):
        raise RefundExceedsPaid(f"运费最多可退 {format_fen(_shipping_refundable(order))}")
    if not wanted and not shipping_amount:
        raise AfterSaleInvalid("请选择要退款的商品")
    lines = {line.pk: line for line in order.lines.all()}
    busy = set(
        AfterSaleLine.objects.filter(
            after_sale__order=order, after_sale__status__in=OPEN_AFTER_SALE
        ).values_list("order_line_id", flat=True)
    )
    plan, seen = [], set()
    for item in wanted:
        line = lines.get(int(item.get("line_id") or 0))
        if line is None:
            raise AfterSaleInvalid("订单中没有该商品")
        if line.pk in seen:
            raise AfterSaleInvalid("同一商品不能重复申请")
        seen.add(line.pk)
        if line.pk in busy:
            raise AfterSaleOpen()
        remaining_qty = line.quantity - line.refunded_quantity
        quantity = item.get("quantity")
        if quantity is None:
            quantity = (
                remaining_qty if item.get("amount") is None else _units_covered(line, int(item["amount"]))
            )
        quantity = int(quantity)
        if quantity < 0 or quantity > remaining_qty:
            raise AfterSaleInvalid(f"退货数量有误，最多可退{remaining_qty}件")
        if kind == AfterSaleKind.RETURN_REFUND and quantity == 0:
            raise AfterSaleInvalid("退货退款请填写退货数量")
        amount = item.get("amount")
        if amount is None:
            amount = (
                line.refundable_amount
                if quantity == remaining_qty
                else min(line.refundable_amount, line.paid_amount * quantity // line.quantity)
            )
        amount = int(amount)
        if amount <= 0:
            raise AfterSaleInvalid("退款金额必须大于0")
        if amount > line.refundable_amount:
            raise RefundExceedsPaid(
                f"退款金额不能超过该商品可退金额 {format_fen(line.refundable_amount)}",
                line_id=line.pk,
                refundable=line.refundable_amount,
            )
        plan.append((line, quantity, amount))
    total = sum(amount for _, _, amount in plan) + shipping_amount
    if total > order.refundable_amount:
        raise RefundExceedsPaid(refundable=order.refundable_amount)
    return plan


@transaction.atomic
def request_after_sale(
    order: Order,
    actor,
    *,
    kind: str,
    reason: str,
    lines: list[dict],
    restock: bool | None = None,
    shipping_amount: int = 0,
) -> AfterSale:
    """`shipping_amount` refunds (part of) the shipping fee, which belongs to no line."""
    by_staff = actor_kind_for(actor) == ActorKind.STAFF
    if kind not in AfterSaleKind.values:
        raise AfterSaleInvalid("售后类型有误")
    reason = (reason or "").strip()
    if not reason:
        raise AfterSaleInvalid("请填写售后原因")
    order = _lock_order(order)
    _check_order_accepts(order, kind, by_staff)
    plan = _plan_lines(order, kind, lines, shipping_amount)
    if restock is None:
        # Goods that never left the warehouse, or come back, go back on sale by default.
        restock = order.status == OrderStatus.PENDING_SHIPMENT or kind == AfterSaleKind.RETURN_REFUND
    after_sale = AfterSale.objects.create(
        number=new_number("AS"),
        order=order,
        kind=kind,
        reason=reason[:200],
        amount=sum(a for _, _, a in plan) + shipping_amount,
        shipping_amount=shipping_amount,
        restock=restock,
        requested_by=ActorKind.STAFF if by_staff else ActorKind.BUYER,
        created_by=actor,
    )
    AfterSaleLine.objects.bulk_create(
        [
            AfterSaleLine(after_sale=after_sale, order_line=line, quantity=qty, amount=amount)
            for line, qty, amount in plan
        ]
    )
    who = "商家发起" if by_staff else "买家申请"
    log_event(
        order,
        "after_sale_requested",
        actor_kind_for(actor),
        f"{who}{after_sale.get_kind_display()} {format_fen(after_sale.amount)}：{reason}",
        actor=actor,
        after_sale=after_sale.number,
    )
    if by_staff:
        after_sale = approve(after_sale, actor)
    return after_sale


def get_for_update(after_sale: AfterSale) -> AfterSale:
    locked = AfterSale.objects.select_for_update().filter(pk=after_sale.pk).first()
    if locked is None:
        raise AfterSaleNotFound()
    return locked


def _move(after_sale: AfterSale, target: str, **fields) -> None:
    AFTER_SALE_FLOW.move(after_sale, target, stale="售后单状态已变化，请刷新后重试", **fields)


@transaction.atomic
def approve(after_sale: AfterSale, staff) -> AfterSale:
    order = _lock_order(after_sale.order)
    after_sale = get_for_update(after_sale)
    _move(after_sale, AfterSaleStatus.APPROVED, decided_by=staff, decided_at=timezone.now())
    items = list(after_sale.lines.select_related("order_line"))
    for item in items:
        line = item.order_line
        if item.amount > line.refundable_amount or item.quantity > line.quantity - line.refunded_quantity:
            raise RefundExceedsPaid(line_id=line.pk)
        OrderLine.objects.filter(pk=line.pk).update(
            refunded_amount=F("refunded_amount") + item.amount,
            refunded_quantity=F("refunded_quantity") + item.quantity,
        )
    if after_sale.amount > order.refundable_amount:
        raise RefundExceedsPaid(refundable=order.refundable_amount)
    Order.objects.filter(pk=order.pk).update(refunded_amount=F("refunded_amount") + after_sale.amount)
    order.refunded_amount += after_sale.amount
    if after_sale.restock:
        quantities: dict[int, int] = {}
        for item in items:
            if item.quantity:
                sku_id = item.order_line.sku_id
                quantities[sku_id] = quantities.get(sku_id, 0) + item.quantity
        restore_stock(quantities)
    log_event(
        order,
        "after_sale_approved",
        ActorKind.STAFF if staff else ActorKind.SYSTEM,
        f"同意售后 {after_sale.number}，退款 {format_fen(after_sale.amount)} 原路退回",
        actor=staff,
        after_sale=after_sale.number,
    )
    if order.status == OrderStatus.PENDING_SHIPMENT and order.refunded_amount >= order.paid_amount:
        transition(
            order,
            OrderStatus.CANCELLED,
            cancelled_at=timezone.now(),
            cancel_reason=f"全额退款：{after_sale.reason}"[:200],
        )
        log_event(order, "cancelled", ActorKind.SYSTEM, "未发货订单全额退款，订单已关闭")
        hooks.orders_cancelled([order.pk])
    elif order.refunded_amount >= order.paid_amount:
        hooks.order_refunded_in_full(order)
    if tenders.refund(order, after_sale.amount, reason=after_sale.reason, after_sale=after_sale) is None:
        # All of it went back to the store credit: nothing waits on the gateway.
        refund_succeeded(after_sale.pk)
        after_sale.refresh_from_db()
    hooks.refund_approved(order, after_sale.amount)
    return after_sale


@transaction.atomic
def reject(after_sale: AfterSale, staff, *, reason: str) -> AfterSale:
    reason = (reason or "").strip()
    if not reason:
        raise AfterSaleInvalid("请填写拒绝原因")
    after_sale = get_for_update(after_sale)
    _move(
        after_sale,
        AfterSaleStatus.REJECTED,
        decided_by=staff,
        decided_at=timezone.now(),
        reject_reason=reason[:200],
    )
    log_event(
        after_sale.order,
        "after_sale_rejected",
        ActorKind.STAFF,
        f"拒绝售后 {after_sale.number}：{reason}",
        actor=staff,
        after_sale=after_sale.number,
    )
    return after_sale


@transaction.atomic
def withdraw(after_sale: AfterSale, buyer) -> AfterSale:
    after_sale = get_for_update(after_sale)
    if after_sale.order.buyer_id != buyer.pk:
        raise AfterSaleNotFound()
    _move(after_sale, AfterSaleStatus.WITHDRAWN)
    log_event(
        after_sale.order,
        "after_sale_withdrawn",
        ActorKind.BUYER,
        f"买家撤销售后 {after_sale.number}",
        actor=buyer,
    )
    return after_sale


def refund_succeeded(after_sale_id: int) -> None:
    """The gateway has paid the refund back: close the after-sale and tell distribution."""
    after_sale = AfterSale.objects.select_for_update().filter(pk=after_sale_id).first()
    if after_sale is None or after_sale.status != AfterSaleStatus.APPROVED:
        return
    if after_sale.refunds.exclude(status="succeeded").exists():
        return
    _move(after_sale, AfterSaleStatus.REFUNDED, refunded_at=timezone.now())
    order = Order.objects.select_for_update().get(pk=after_sale.order_id)
    items = list(after_sale.lines.select_related("order_line"))
    log_event(
        order,
        "refunded",
        ActorKind.GATEWAY,
        f"售后 {after_sale.number} 已退款 {format_fen(after_sale.amount)}",
        after_sale=after_sale.number,
    )
    notices.refund_done(
        buyer_id=order.buyer_id,
        after_sale_id=after_sale.pk,
        after_sale_number=after_sale.number,
        order_number=order.number,
        amount=after_sale.amount,
    )
    hooks.lines_refunded(order, [(i.order_line, i.amount, i.quantity) for i in items])


def start_full_refund(order: Order, actor, *, reason: str) -> Order:
    """Cancel a paid, unshipped order: everything refunded, everything back in stock."""
    with transaction.atomic():
        locked = _lock_order(order)
        if locked.status != OrderStatus.PENDING_SHIPMENT:
            raise InvalidTransition("只有已付款未发货的订单可以取消并全额退款")
        lines = [{"line_id": line.pk} for line in locked.lines.all() if line.refundable_amount > 0]
        after_sale = request_after_sale(
            locked,
            actor,
            kind=AfterSaleKind.REFUND_ONLY,
            reason=reason,
            lines=lines,
            restock=True,
            shipping_amount=_shipping_refundable(locked),
        )
        if after_sale.status == AfterSaleStatus.REQUESTED:
            # The buyer's own cancellation of an unshipped order needs no review.
            approve(after_sale, None)
    order.refresh_from_db()
    return order
