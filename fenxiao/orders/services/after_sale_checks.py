"""What an after-sale request may ask for, checked with the order locked: the order's state
and after-sale window, the reason (from the list for its kind), and each line's quantity
and amount against what is still refundable (`plan_lines`), so refunds never exceed what
was paid. `after_sales.request_after_sale` writes what these allow.

A partly shipped order (待发货 with parcels) takes returns of lines that are wholly in
parcels: a refund takes a line's units not yet in a parcel first (see `shipments`), so a
return on a line with units still to ship would count a unit sent as one never sent.
Units not in a parcel are still in the warehouse: they are what a refund only puts back
on sale by default (`in_warehouse`). A request that takes everything left of an order none
of which has shipped is a cancellation: it takes the postage too (`closes_unshipped`)."""

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fenxiao.core.errors import InvalidTransition
from fenxiao.core.money import format_fen

from ..errors import AfterSaleInvalid, AfterSaleOpen, RefundExceedsPaid
from ..models import (
    DROPPED_AFTER_SALE,
    OPEN_AFTER_SALE,
    RETURN_REASONS,
    UNSHIPPED_REASONS,
    AfterSale,
    AfterSaleKind,
    AfterSaleLine,
    AfterSaleReason,
    Order,
    OrderLine,
    OrderSettings,
    OrderStatus,
    Parcel,
)
from .shipments import remaining_quantities

PAID_STATES = (OrderStatus.PENDING_SHIPMENT, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


def nothing_shipped(order: Order) -> bool:
    """Paid and waiting, not a single parcel sent yet."""
    return order.status == OrderStatus.PENDING_SHIPMENT and not Parcel.objects.filter(order=order).exists()


def order_accepts(order: Order, kind: str, by_staff: bool) -> None:
    if order.status not in PAID_STATES:
        raise InvalidTransition(_("订单未付款或已关闭，不能申请售后"))
    if kind == AfterSaleKind.RETURN_REFUND and nothing_shipped(order):
        raise AfterSaleInvalid(_("订单尚未发货，请选择仅退款"))
    if order.status == OrderStatus.COMPLETED and not by_staff:
        days = OrderSettings.current().after_sale_days
        if order.completed_at and timezone.now() > order.completed_at + timedelta(days=days):
            raise AfterSaleInvalid(_("订单完成已超过%(days)s天，不能再申请售后") % {"days": days})


def buyer_refusal(order: Order) -> str:
    """Why the buyer may not file any after-sale on `order` now ("" when they may): what the
    order page says instead of offering 申请售后 that `order_accepts` would refuse."""
    try:
        order_accepts(order, AfterSaleKind.REFUND_ONLY, by_staff=False)
    except (AfterSaleInvalid, InvalidTransition) as refusal:
        return str(refusal.message)
    return ""


def shipping_refundable(order: Order) -> int:
    """Shipping not yet refunded or being refunded (it belongs to no line)."""
    taken = (
        AfterSale.objects.filter(order=order)
        .exclude(status__in=DROPPED_AFTER_SALE)
        .aggregate(total=Sum("shipping_amount"))["total"]
        or 0
    )
    return max(order.shipping_fee - taken, 0)


def open_after_sale_lines(order: Order) -> dict[int, str]:
    """Per order line id, the number of the open after-sale that holds the line: no other
    request may take it until that one ends."""
    return dict(
        AfterSaleLine.objects.filter(
            after_sale__order=order, after_sale__status__in=OPEN_AFTER_SALE
        ).values_list("order_line_id", "after_sale__number")
    )


def has_requestable_line(lines, held) -> bool:
    """Whether any of the order's `lines` has money left to refund and no open request
    (`held`: order line ids, as `open_after_sale_lines`) holds it: something to ask for."""
    return any(line.refundable_amount > 0 and line.pk not in held for line in lines)


def units_covered(line: OrderLine, amount: int) -> int:
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


def units_share(line: OrderLine, quantity: int) -> int:
    """What `quantity` of the line's units not yet refunded are worth: the line's refundable
    amount for all of them, else their share of what was paid (rounded down, so the last
    unit carries the odd fen), never more than is left."""
    if quantity >= line.quantity - line.refunded_quantity:
        return line.refundable_amount
    return min(line.refundable_amount, line.paid_amount * quantity // line.quantity)


def plan_lines(
    order: Order, kind: str, wanted: list[dict], shipping_amount: int = 0, *, by_staff: bool = False
) -> list[tuple[OrderLine, int, int]]:
    """(line, quantity, amount) for each line asked for. A buyer naming some of a line's
    units asks at most their share: 1 of 2 units for the whole line's money would leave the
    unit kept refundable for ¥0. Staff may refund any amount up to what is left (a goodwill
    refund is theirs to give)."""
    shipping_left = shipping_refundable(order)
    if shipping_amount < 0 or shipping_amount > shipping_left:
        raise RefundExceedsPaid(
            _("运费最多可退 %(shipping_left)s") % {"shipping_left": format_fen(shipping_left)}
        )
    if not wanted and not shipping_amount:
        raise AfterSaleInvalid(_("请选择要退款的商品"))
    lines = {line.pk: line for line in order.lines.all()}
    busy = open_after_sale_lines(order)
    # A return on a partly shipped order: only of lines with nothing left to ship.
    early_return = kind == AfterSaleKind.RETURN_REFUND and order.status == OrderStatus.PENDING_SHIPMENT
    unsent = remaining_quantities(order) if early_return else {}
    plan, seen = [], set()
    for item in wanted:
        line = lines.get(int(item.get("line_id") or 0))
        if line is None:
            raise AfterSaleInvalid(_("订单中没有该商品"))
        if line.pk in seen:
            raise AfterSaleInvalid(_("同一商品不能重复申请"))
        seen.add(line.pk)
        if line.pk in busy:
            raise AfterSaleOpen()
        remaining_qty = line.quantity - line.refunded_quantity
        quantity = item.get("quantity")
        if quantity is None:
            quantity = (
                remaining_qty if item.get("amount") is None else units_covered(line, int(item["amount"]))
            )
        quantity = int(quantity)
        if quantity < 0 or quantity > remaining_qty:
            raise AfterSaleInvalid(
                _("退货数量有误，最多可退%(remaining_qty)s件") % {"remaining_qty": remaining_qty}
            )
        if kind == AfterSaleKind.RETURN_REFUND and quantity == 0:
            raise AfterSaleInvalid(_("退货退款请填写退货数量"))
        if unsent.get(line.pk):
            raise AfterSaleInvalid(
                _("“%(name)s”还有 %(left)s 件未发货：未发货的商品请申请仅退款，全部发出后再申请退货")
                % {"name": line.product_name, "left": unsent[line.pk]},
                code="RETURN_LINE_NOT_SHIPPED",
            )
        share = units_share(line, quantity)
        amount = item.get("amount")
        amount = share if amount is None else int(amount)
        # A line that cost nothing (a giveaway, or a discount that took its whole price) has
        # units to take back and no money: its after-sale line is for ¥0.
        free_units = amount == 0 and quantity > 0 and line.refundable_amount == 0
        if amount <= 0 and not free_units:
            raise AfterSaleInvalid(_("退款金额必须大于0"))
        if amount > line.refundable_amount:
            raise RefundExceedsPaid(
                _("退款金额不能超过该商品可退金额 %(refundable_amount)s")
                % {"refundable_amount": format_fen(line.refundable_amount)},
                line_id=line.pk,
                refundable=line.refundable_amount,
            )
        named = item.get("quantity") is not None  # units the buyer chose, not read off the amount
        if named and not by_staff and 0 < quantity < remaining_qty and amount > share:
            raise RefundExceedsPaid(
                _("退 %(quantity)s 件最多可退 %(share)s，请修改退款金额")
                % {"quantity": quantity, "share": format_fen(share)},
                line_id=line.pk,
                refundable=share,
            )
        plan.append((line, quantity, amount))
    total = sum(amount for _, _, amount in plan) + shipping_amount
    if total > order.refundable_amount:
        raise RefundExceedsPaid(refundable=order.refundable_amount)
    return plan


def in_warehouse(order: Order, requested) -> dict[int, int]:
    """Per order line id, how many of the `requested` units ((line, quantity) pairs) have not
    been put in a parcel: a refund takes those first, and they never left the warehouse.
    Read before the refund is counted on the lines."""
    if order.status != OrderStatus.PENDING_SHIPMENT:
        return {}
    left = remaining_quantities(order)
    return {line.pk: min(quantity, left.get(line.pk, 0)) for line, quantity in requested}


def closes_unshipped(order: Order, plan) -> bool:
    """Whether `plan` ((line, quantity, amount) triples) takes every unit not yet refunded
    of an order none of which has shipped: nothing would be left to ship, so the request is
    a cancellation and asks for the postage too. (Several requests that together take
    everything get it when the last of them is approved: `after_sales`.)"""
    if not nothing_shipped(order):
        return False
    taken = {line.pk: quantity for line, quantity, _ in plan}
    return all(
        line.quantity - line.refunded_quantity - taken.get(line.pk, 0) <= 0 for line in order.lines.all()
    )


def reason_of(order: Order, kind: str, reason_code: str | None, reason: str) -> tuple[str, str]:
    """(code, text) of the reason: a code from the list, or (staff, older clients) free text."""
    reason_code = (reason_code or "").strip()
    reason = (reason or "").strip()
    if not reason_code:
        if not reason:
            raise AfterSaleInvalid(_("请选择售后原因"))
        matched = next((c for c in AfterSaleReason if _stored_label(c) == reason), None)
        return (matched.value if matched else ""), reason
    if reason_code not in AfterSaleReason.values:
        raise AfterSaleInvalid(_("售后原因有误"))
    if kind == AfterSaleKind.RETURN_REFUND:
        allowed = RETURN_REASONS
    elif nothing_shipped(order):
        allowed = UNSHIPPED_REASONS
    else:
        allowed = list(AfterSaleReason)
    if reason_code not in allowed:
        raise AfterSaleInvalid(_("该售后类型不能选择此原因"))
    return reason_code, _stored_label(AfterSaleReason(reason_code))


def _stored_label(reason: AfterSaleReason) -> str:
    """The reason's Chinese label, what the after-sale keeps (whatever language the request)."""
    with translation.override("zh-hans"):
        return str(reason.label)
