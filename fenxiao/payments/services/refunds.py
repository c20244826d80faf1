"""Money back to the buyer, always through the gateway that took it."""

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from fenxiao.orders.models import AfterSale, Order

from ..errors import RefundExceedsPayment
from ..gateways import get_gateway
from ..models import REFUND_FLOW, Payment, PaymentStatus, Refund, RefundStatus

logger = logging.getLogger(__name__)


def _schedule(refund: Refund) -> None:
    from ..tasks import execute_refund

    transaction.on_commit(lambda: execute_refund(refund.pk))


def _new_refund(payment: Payment, amount: int, reason: str, after_sale: AfterSale | None) -> Refund:
    # The payment row is locked by the caller's transaction, so the sum cannot race.
    already = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))["total"] or 0
    if already + amount > payment.amount:
        raise RefundExceedsPayment()
    number = payment.refunds.count() + 1
    refund = Refund.objects.create(
        payment=payment,
        after_sale=after_sale,
        amount=amount,
        reason=reason[:200],
        out_refund_no=f"{payment.out_trade_no}R{number:02d}",
    )
    _schedule(refund)
    return refund


def refund_order(order: Order, amount: int, *, reason: str, after_sale: AfterSale | None = None) -> Refund:
    """Refund part of what the order's applied payment took. Call inside a transaction."""
    payment = Payment.objects.select_for_update().get(order=order, applied=True)
    return _new_refund(payment, amount, reason, after_sale)


def refund_unapplied_payment(payment: Payment, order: Order) -> Refund:
    from fenxiao.orders.models import ActorKind
    from fenxiao.orders.services.events import log_event

    log_event(
        order,
        "late_payment_refunded",
        ActorKind.SYSTEM,
        f"订单已{order.get_status_display()}，支付单 {payment.out_trade_no} 的款项原路退回",
        amount=payment.amount,
    )
    return _new_refund(payment, payment.amount, "订单已关闭或已支付，款项原路退回", None)


def execute_refund(refund_id: int) -> None:
    """Ask the gateway to pay the refund; safe to run twice (idempotent refund number)."""
    from fenxiao.orders.services import after_sales

    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update()
            .select_related("payment")
            .filter(pk=refund_id, status=RefundStatus.PENDING)
            .first()
        )
        if refund is None:
            return
        Refund.objects.filter(pk=refund.pk).update(attempts=refund.attempts + 1)
    result = get_gateway(refund.payment.gateway).refund(
        out_trade_no=refund.payment.out_trade_no,
        out_refund_no=refund.out_refund_no,
        amount=refund.amount,
        reason=refund.reason,
    )
    with transaction.atomic():
        target = RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED
        moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=target,
            gateway_refund_id=result.gateway_refund_id,
            failure_reason=result.failure_reason[:200],
            completed_at=timezone.now(),
        )
        if not moved:
            return
        refund.status = target
        if result.succeeded and refund.after_sale_id:
            after_sales.refund_succeeded(refund.after_sale_id)
        if not result.succeeded:
            logger.error("refund %s failed: %s", refund.out_refund_no, result.failure_reason)


@transaction.atomic
def retry_refund(refund: Refund) -> Refund:
    REFUND_FLOW.check(refund.status, RefundStatus.PENDING)
    moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.FAILED).update(
        status=RefundStatus.PENDING, failure_reason=""
    )
    if moved:
        refund.status = RefundStatus.PENDING
        _schedule(refund)
    return refund


def paid_payment(order: Order) -> Payment | None:
    return order.payments.filter(applied=True, status=PaymentStatus.SUCCEEDED).first()
