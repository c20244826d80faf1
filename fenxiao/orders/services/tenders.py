"""How an order is paid: store credit (the buyer's wallet) and the payment gateway.

Store credit is a tender, not a discount: the order's total and every line's paid amount
(the commission base) are the same however the buyer pays. `Order.wallet_amount` is what
the wallet paid, `Order.amount_due` what the gateway collects.

- At checkout the wallet pays as much as it can (all of the order, or part of it) in the
  order's own transaction: a debit that never overdraws (customers.services.wallet).
  An order the wallet covers entirely is paid at once, without the gateway.
- An unpaid order that is cancelled (by the buyer, staff or the payment timeout) gives
  its store credit back, once.
- A refund goes back where the money came from, in the proportion it was paid: after any
  refund, the wallet has had back floor(wallet_amount × refunded / paid) in total and the
  gateway the rest. Computed from the cumulative amounts each time, so a series of
  partial refunds never drifts by a fen, and a full refund returns exactly what each
  tender took. The wallet part is credited at once; the gateway part is a gateway refund.
"""

from django.db.models import F
from django.utils.translation import gettext_noop

from fenxiao.core.money import format_fen
from fenxiao.customers.models import WALLET_ORDER_PAID, WALLET_ORDER_REFUNDED, WALLET_ORDER_RELEASED
from fenxiao.customers.services import wallet

from ..models import ActorKind, AfterSale, Order
from . import payments_port
from .events import log_event


def pay_with_wallet(order: Order) -> int:
    """Spend the buyer's store credit on a new, unpaid order; returns the amount taken.
    Call inside the checkout transaction, right after the order row is created."""
    from .lifecycle import mark_paid_by_wallet

    amount = wallet.debit_up_to(
        order.buyer_id,
        order.total,
        source_key=f"order-pay:{order.pk}",
        note=WALLET_ORDER_PAID % {"number": order.number},
    )
    if amount <= 0:
        return 0
    Order.objects.filter(pk=order.pk).update(wallet_amount=amount)
    order.wallet_amount = amount
    log_event(
        order,
        "wallet_paid",
        ActorKind.BUYER,
        gettext_noop("商城余额支付 %(amount)s，还需支付 %(due)s")
        if order.amount_due
        else gettext_noop("商城余额支付 %(amount)s"),
        args={"amount": format_fen(amount), "due": format_fen(order.amount_due)},
        amount=amount,
    )
    if order.amount_due == 0:
        mark_paid_by_wallet(order)
    return amount


def release_wallet(order: Order) -> None:
    """An unpaid order is cancelled: its store credit goes back (once)."""
    if order.wallet_amount and order.paid_at is None:
        wallet.credit(
            order.buyer_id,
            order.wallet_amount,
            source_key=f"order-release:{order.pk}",
            note=WALLET_ORDER_RELEASED % {"number": order.number},
        )


def split_refund(order: Order, amount: int) -> tuple[int, int]:
    """(wallet part, gateway part) of a refund of `amount`, with `order.refunded_amount`
    already including it."""
    if not order.wallet_amount or not order.paid_amount:
        return 0, amount
    wallet_total = order.wallet_amount * min(order.refunded_amount, order.paid_amount) // order.paid_amount
    wallet_part = max(0, min(wallet_total - order.wallet_refunded, amount))
    return wallet_part, amount - wallet_part


def refund(order: Order, amount: int, *, reason: str, after_sale: AfterSale):
    """Pay a refund back to its tenders. Call inside the approving transaction with the
    order row locked and `order.refunded_amount` already including `amount`. Returns the
    gateway refund, or None when the wallet took all of it (then nothing is pending)."""
    wallet_part, gateway_part = split_refund(order, amount)
    if wallet_part:
        wallet.credit(
            order.buyer_id,
            wallet_part,
            source_key=f"order-refund:{after_sale.pk}",
            note=WALLET_ORDER_REFUNDED % {"number": order.number, "after_sale": after_sale.number},
        )
        Order.objects.filter(pk=order.pk).update(wallet_refunded=F("wallet_refunded") + wallet_part)
        order.wallet_refunded += wallet_part
        log_event(
            order,
            "wallet_refunded",
            ActorKind.SYSTEM,
            gettext_noop("售后 %(after_sale)s 退回商城余额 %(amount)s"),
            args={"after_sale": after_sale.number, "amount": format_fen(wallet_part)},
            after_sale=after_sale.number,
            amount=wallet_part,
        )
    if gateway_part:
        return payments_port.refund(order, gateway_part, reason=reason, after_sale=after_sale)
    return None
