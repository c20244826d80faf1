"""An order's life after checkout: paid, shipped, completed, cancelled, and merchant edits."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.catalog.services.stock import restore_stock
from fenxiao.core.errors import InvalidTransition
from fenxiao.core.money import allocate, format_fen
from fenxiao.shipping.errors import RegionUndeliverable
from fenxiao.webhooks.services import events as webhooks

from ..errors import PriceAdjustInvalid
from ..models import (
    ActorKind,
    DiscountKind,
    Order,
    OrderDiscount,
    OrderLine,
    OrderStatus,
)
from . import hooks, payments_port, stores_port, tenders
from .events import actor_kind_for, log_event, text_arg, transition

# The periodic sweeps (timeout cancel, auto-complete) work on chunks of orders; they live
# in `sweeps` and are reached from here too, next to the one-order transitions they mirror
# (whose log lines they share).
from .sweeps import (  # noqa: F401
    AUTO_COMPLETE_MESSAGE,
    CANCELLED_MESSAGE,
    auto_complete_orders,
    cancel_expired_orders,
)

# The reasons an order is cancelled with when nobody typed one: kept on the order as
# written, and shown in the reader's language in its log.
BUYER_CANCEL_REASON = gettext_noop("买家取消")
PAID_CANCEL_REASON = gettext_noop("取消订单")
# What the backend's cancel form (admin/order_actions.py) passes when left empty.
STAFF_CANCEL_REASON = gettext_noop("商家取消")


def mark_paid(order: Order, payment) -> bool:
    """Apply a confirmed payment. Called by the payments app (which sits above orders, see
    `payments_port`) with the order row locked.

    Returns False when the order can no longer take this money (cancelled, already paid,
    or the amount no longer matches after a price adjustment); the caller refunds it.
    """
    if order.status != OrderStatus.PENDING_PAYMENT or payment.amount != order.amount_due:
        return False
    now = timezone.now()
    # paid_amount is the whole order: the gateway part plus any store credit already taken.
    transition(order, OrderStatus.PENDING_SHIPMENT, paid_amount=order.total, paid_at=now)
    log_event(
        order,
        "paid",
        ActorKind.GATEWAY,
        gettext_noop("买家已付款 %(amount)s（余额支付 %(wallet)s）")
        if order.wallet_amount
        else gettext_noop("买家已付款 %(amount)s"),
        args={"amount": format_fen(payment.amount), "wallet": format_fen(order.wallet_amount)},
        gateway=payment.gateway,
        transaction_id=payment.transaction_id,
    )
    hooks.order_paid(order)
    _paid_webhook(order)
    return True


def mark_paid_by_wallet(order: Order) -> None:
    """Store credit covered the whole order: paid at once, no gateway involved.
    Called by checkout with the order row freshly created in its transaction."""
    transition(order, OrderStatus.PENDING_SHIPMENT, paid_amount=order.total, paid_at=timezone.now())
    log_event(
        order,
        "paid",
        ActorKind.BUYER,
        gettext_noop("买家已用商城余额付款 %(amount)s"),
        args={"amount": format_fen(order.total)},
        gateway="wallet",
    )
    hooks.order_paid(order)
    _paid_webhook(order)


def _paid_webhook(order: Order) -> None:
    webhooks.order_paid(
        order_id=order.pk,
        number=order.number,
        buyer_id=order.buyer_id,
        total=order.total,
        paid_amount=order.paid_amount,
        paid_at=order.paid_at,
    )


def ship(order: Order, staff, *, carrier: str, tracking_number: str) -> Order:
    """Ship everything still to ship in one parcel (`carrier` is a carrier code or name).
    Split shipments are `shipments.ship_parcel`."""
    from .shipments import ship_rest

    return ship_rest(order, staff, carrier=carrier, tracking_number=tracking_number)


@transaction.atomic
def complete(order: Order, *, actor=None, actor_kind: str = ActorKind.BUYER) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.is_pickup:
        # Its flow allows 待自提 → 已完成: only the store's verification may take that step.
        raise InvalidTransition(_("到店自提订单请到门店出示提货码，核销后完成"), code="ORDER_IS_PICKUP")
    transition(order, OrderStatus.COMPLETED, completed_at=timezone.now())
    message = gettext_noop("买家确认收货") if actor_kind == ActorKind.BUYER else AUTO_COMPLETE_MESSAGE
    log_event(order, "completed", actor_kind, message, actor=actor)
    hooks.order_completed(order)
    webhooks.orders_completed([(order.pk, order.number)], order.completed_at)
    return order


@transaction.atomic
def complete_pickup(order: Order, *, actor=None) -> Order:
    """The buyer picked the order up at the store (核销): completed, with the same hooks as
    a confirmed receipt (commission frozen, the buyer's distributor condition). The row is
    locked and its status moved conditionally: a code verified twice at once completes once."""
    from ..errors import PickupCodeUsed
    from ..models import OPEN_AFTER_SALE

    order = Order.objects.select_for_update().get(pk=order.pk)
    if not order.is_pickup:
        raise InvalidTransition(_("该订单不是到店自提订单"))
    if order.status == OrderStatus.COMPLETED:
        raise PickupCodeUsed()
    if order.status != OrderStatus.PENDING_SHIPMENT:
        raise InvalidTransition(_("订单状态为“%(status)s”，不能提货") % {"status": order.status_label})
    if order.awaiting_group:
        raise InvalidTransition(_("拼团尚未成功，暂不能提货"), code="ORDER_AWAITING_GROUP")
    if order.after_sales.filter(status__in=OPEN_AFTER_SALE).exists():
        raise InvalidTransition(_("订单有处理中的售后申请，请先处理售后"), code="ORDER_HAS_OPEN_AFTER_SALE")
    now = timezone.now()
    transition(order, OrderStatus.COMPLETED, completed_at=now, picked_up_at=now)
    log_event(
        order, "completed", ActorKind.STAFF, gettext_noop("门店核销提货码，买家已到店提货"), actor=actor
    )
    hooks.order_completed(order)
    webhooks.orders_completed([(order.pk, order.number)], order.completed_at)
    return order


def restore_order_stock(order: Order, quantities: dict[int, int]) -> None:
    """Put stock back where the order took it: the pickup store's, or the online stock."""
    if order.is_pickup:
        stores_port.restore_stock(order.pickup_store_id, quantities)
    else:
        restore_stock(quantities)


def _close_open_payments(order: Order, refusal: str) -> None:
    """Close the order's open payments at their gateways before changing what it costs.

    Runs outside the caller's transaction: if a gateway says the buyer has in fact paid,
    that payment is applied (and committed) and the caller's change is refused.
    """
    if not payments_port.close_open_payments(order):
        raise InvalidTransition(refusal, code="ORDER_ALREADY_PAID")


def _lock_unpaid(order: Order, refusal: str) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise InvalidTransition(refusal)
    if payments_port.payment_in_progress(order):
        raise InvalidTransition(_("买家正在付款，请稍后重试"), code="ORDER_PAYMENT_IN_PROGRESS")
    return order


def cancel_unpaid(order: Order, *, actor=None, actor_kind: str = ActorKind.BUYER, reason: str = "") -> Order:
    """Cancel an unpaid order and put its stock back.

    Open payments are closed at their gateway first; if the buyer has in fact paid, the
    payment is applied instead and the order is not cancelled.
    """
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise InvalidTransition(_("只有待付款的订单可以直接取消"))
    _close_open_payments(order, _("买家已付款，订单不能取消"))
    with transaction.atomic():
        order = _lock_unpaid(order, _("只有待付款的订单可以直接取消"))
        transition(
            order,
            OrderStatus.CANCELLED,
            cancelled_at=timezone.now(),
            cancel_reason=(reason or BUYER_CANCEL_REASON)[:200],
        )
        restore_order_stock(order, _line_quantities(order))
        log_event(
            order,
            "cancelled",
            actor_kind,
            CANCELLED_MESSAGE,
            actor=actor,
            args={"reason": text_arg(order.cancel_reason)},
        )
        tenders.release_wallet(order)
        hooks.orders_cancelled([order.pk])
    return order


def cancel_paid_order(order: Order, actor, *, reason: str = "") -> Order:
    """A paid order not yet shipped: cancelled at once with a full refund and restock."""
    from .after_sales import start_full_refund

    return start_full_refund(order, actor, reason=reason or PAID_CANCEL_REASON)


def cancel(order: Order, actor, *, reason: str = "") -> Order:
    """The buyer's (or staff's) "cancel order" button, whichever state the order is in."""
    kind = actor_kind_for(actor)
    if order.status == OrderStatus.PENDING_PAYMENT:
        return cancel_unpaid(order, actor=actor, actor_kind=kind, reason=reason)
    if order.status == OrderStatus.PENDING_SHIPMENT:
        if order.parcels.exists():  # part of it is on its way: what comes back is an after-sale
            raise InvalidTransition(
                _("订单已部分发货，不能整单取消，请申请售后"), code="ORDER_PARTLY_SHIPPED"
            )
        return cancel_paid_order(order, actor, reason=reason)
    raise InvalidTransition(_("订单已发货，请申请售后"))


def adjust_price(order: Order, staff, *, discount_amount: int, shipping_fee: int, reason: str = "") -> Order:
    """Merchant price adjustment on an unpaid order (positive discount lowers the price).

    The discount is spread over the lines in proportion to their subtotals, so every line
    keeps an exact paid amount for commission and partial refunds.
    """
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise InvalidTransition(_("只有待付款的订单可以改价"))
    if order.wallet_amount:
        # The buyer agreed to spend store credit on the old price; a new price is a new deal.
        raise PriceAdjustInvalid(_("买家已用商城余额支付部分款项，不能改价，请买家取消后重新下单"))
    if shipping_fee < 0:
        raise PriceAdjustInvalid(_("运费不能为负数"))
    if order.is_pickup and shipping_fee:
        raise PriceAdjustInvalid(_("到店自提订单不收运费"))
    if discount_amount >= order.goods_amount:
        raise PriceAdjustInvalid(_("优惠后商品金额至少为0.01元"))
    if discount_amount < -order.goods_amount * 10:
        raise PriceAdjustInvalid(_("加价幅度过大"))
    from .checkout import MAX_ORDER_TOTAL

    if order.goods_amount - discount_amount + shipping_fee > MAX_ORDER_TOTAL:
        raise PriceAdjustInvalid(_("改价后订单金额过大"))
    _close_open_payments(order, _("买家已付款，不能改价"))
    with transaction.atomic():
        return _apply_adjustment(
            _lock_unpaid(order, _("只有待付款的订单可以改价")), staff, discount_amount, shipping_fee, reason
        )


def _apply_adjustment(order: Order, staff, discount_amount: int, shipping_fee: int, reason: str) -> Order:
    """`discount_amount` is the order's whole discount. The promotions' shares (满减,
    coupon) stay on their lines; what the merchant adds or takes back on top of them is
    spread over what each line then pays and kept as 商家改价 rows."""
    lines = list(order.lines.all())
    promoted = {line.pk: 0 for line in lines}
    for line_id, amount in OrderDiscount.objects.filter(
        order=order, line__isnull=False, kind__in=[DiscountKind.SPEND, DiscountKind.COUPON]
    ).values_list("line_id", "amount"):
        promoted[line_id] += amount
    adjustment = discount_amount - sum(promoted.values())
    shares = allocate(adjustment, [line.subtotal - promoted[line.pk] for line in lines])
    OrderDiscount.objects.filter(order=order, kind=DiscountKind.ADJUST).delete()
    OrderDiscount.objects.bulk_create(
        OrderDiscount(order=order, line=line, kind=DiscountKind.ADJUST, name="商家改价", amount=share)
        for line, share in zip(lines, shares, strict=True)
        if share
    )
    for line, share in zip(lines, shares, strict=True):
        line.discount_share = promoted[line.pk] + share
        line.paid_amount = line.subtotal - line.discount_share
    OrderLine.objects.bulk_update(lines, ["discount_share", "paid_amount"])
    before = order.total
    order.discount_amount = discount_amount
    order.shipping_fee = shipping_fee
    order.total = order.goods_amount - discount_amount + shipping_fee
    order.save(update_fields=["discount_amount", "shipping_fee", "total"])
    log_event(
        order,
        "price_adjusted",
        ActorKind.STAFF,
        gettext_noop("商家改价：%(before)s → %(after)s（%(reason)s）")
        if reason
        else gettext_noop("商家改价：%(before)s → %(after)s"),
        actor=staff,
        args={"before": format_fen(before), "after": format_fen(order.total), "reason": text_arg(reason)},
        before=before,
        after=order.total,
    )
    return order


def change_address(order: Order, staff, data: dict) -> Order:
    """A new delivery address for an order not yet shipped. An address the goods are not
    delivered to is refused. An unpaid order's shipping fee follows the new province: the
    difference the templates make between the two provinces is added to (or taken off)
    whatever fee the order carries, so a merchant's own fee change stays. A 包邮 order and
    one partly paid with store credit keep their fee (the buyer agreed to that price)."""
    from fenxiao.customers.services.addresses import clean_address

    from .checkout import order_shipping_fee

    if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PENDING_SHIPMENT):
        raise InvalidTransition(_("订单已发货，不能修改收货地址"))
    if order.is_pickup:
        raise InvalidTransition(_("到店自提订单没有收货地址，买家到门店提货"), code="ORDER_IS_PICKUP")
    new = clean_address(data)
    fee = order_shipping_fee(order, new["province"])
    shipping = order.shipping_fee
    repriced = (
        order.status == OrderStatus.PENDING_PAYMENT
        and not order.wallet_amount
        and not order.discounts.filter(kind=DiscountKind.FREE_SHIPPING).exists()
    )
    if repriced:
        try:
            shipping = max(order.shipping_fee + fee - order_shipping_fee(order, order.province), 0)
        except RegionUndeliverable:  # the old province has since stopped being delivered
            shipping = fee
        repriced = shipping != order.shipping_fee
    if repriced:
        _close_open_payments(order, _("买家已付款，请在发货前修改地址"))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PENDING_SHIPMENT):
            raise InvalidTransition(_("订单已发货，不能修改收货地址"))
        if repriced:
            order = _lock_unpaid(order, _("买家已付款，请在发货前修改地址"))
        before = order.address_text
        order.recipient, order.recipient_phone = new["recipient"], new["phone"]
        order.province, order.city, order.district = new["province"], new["city"], new["district"]
        order.address_detail = new["detail"]
        order.save(
            update_fields=["recipient", "recipient_phone", "province", "city", "district", "address_detail"]
        )
        log_event(
            order,
            "address_changed",
            ActorKind.STAFF,
            gettext_noop("商家修改收货地址：%(before)s → %(after)s"),
            actor=staff,
            args={"before": before, "after": order.address_text},
        )
        if repriced:
            _apply_adjustment(
                order, staff, order.discount_amount, shipping, gettext_noop("收货地址变更，运费重算")
            )
    return order


def _line_quantities(order: Order) -> dict[int, int]:
    totals: dict[int, int] = {}
    for sku_id, quantity in order.lines.values_list("sku_id", "quantity"):
        totals[sku_id] = totals.get(sku_id, 0) + quantity
    return totals
