"""Money back to the buyer, always through the gateway that took it: at least once, and once.

The invariant: every refund the mall decides on reaches the gateway until the gateway has
answered, and the buyer is paid back once, even when a worker dies mid-call.

- The decision writes the refund row (`pending`) in the caller's transaction; the task is
  queued on commit. If the queueing is lost, the sweeper finds the row.
- A worker claims the row (`processing`, attempt + 1, a deadline) in its own short
  transaction, then calls the gateway outside any transaction, then records the answer
  with a conditional update on the claim it made. A worker killed in between leaves a
  `processing` row past its deadline; the sweeper puts it back to `pending` and queues it.
- The gateway is called with the refund number as its idempotency key, so a re-drive of a
  refund the gateway already paid gets the first answer back, never a second payment.
- A gateway that could not be reached leaves the refund `pending` with a later
  `next_attempt_at` (backoff). Only the gateway's explicit refusal makes it `failed`.
- Staff can re-drive any refund that is not `succeeded` (`retry_refund`).

One refund row per gateway payment: a future tender (store credit) gets its own rows, so
each source of money is returned and tracked on its own.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.core import effects
from fenxiao.core.errors import InvalidTransition
from fenxiao.orders.models import AfterSale, Order

from ..errors import RefundExceedsPayment
from ..gateways import get_gateway
from ..models import RETRYABLE_REFUND, Payment, PaymentStatus, Refund, RefundStatus

logger = logging.getLogger(__name__)

# How long a worker may hold a claimed refund before it is presumed dead. Longer than any
# gateway call may take (the adapters time out well before).
CLAIM_TIMEOUT = timedelta(minutes=5)
# A freshly decided refund is queued at once; the sweeper only steps in after this.
QUEUE_GRACE = timedelta(minutes=2)
SWEEP_CHUNK = 100
SWEEP_LIMIT = 1000

# The order log's line for a payment that came after its order was closed or paid another
# way: a template (see `orders.services.events`), so it reads in its reader's language. The
# status label carries its own 已/待 (it read 订单已已取消 when the template said 已 too).
LATE_PAYMENT_MESSAGE = gettext_noop("订单%(status)s，支付单 %(payment)s 的款项原路退回")
# That refund's reason: stored in Chinese, shown in its reader's language (Refund.reason_text).
LATE_PAYMENT_REFUND_REASON = gettext_noop("订单已关闭或已支付，款项原路退回")


def retry_delay(attempts: int) -> timedelta:
    """Backoff after an attempt that got no answer: 30 s, 1 min, 2 min … capped at 1 hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _schedule(refund_id: int) -> None:
    from ..tasks import execute_refund

    transaction.on_commit(lambda: execute_refund(refund_id))


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
        next_attempt_at=timezone.now() + QUEUE_GRACE,
    )
    _schedule(refund.pk)
    return refund


def refund_order(order: Order, amount: int, *, reason: str, after_sale: AfterSale | None = None) -> Refund:
    """Refund part of what the order's applied payment took. Call inside a transaction."""
    payment = Payment.objects.select_for_update().get(order=order, applied=True)
    return _new_refund(payment, amount, reason, after_sale)


def refund_unapplied_payment(payment: Payment, order: Order) -> Refund:
    from fenxiao.orders.models import ActorKind
    from fenxiao.orders.services.events import log_event, text_arg

    # The status goes in as its Chinese label, a catalog entry, so it is translated too.
    with translation.override("zh-hans"):
        status = order.get_status_display()
    log_event(
        order,
        "late_payment_refunded",
        ActorKind.SYSTEM,
        LATE_PAYMENT_MESSAGE,
        args={"status": text_arg(status), "payment": payment.out_trade_no},
        amount=payment.amount,
    )
    return _new_refund(payment, payment.amount, LATE_PAYMENT_REFUND_REASON, None)


def _claim(refund_id: int, now) -> Refund | None:
    return effects.claim(
        Refund.objects.select_related("payment").filter(pk=refund_id, status=RefundStatus.PENDING),
        now + CLAIM_TIMEOUT,
        status="status",
        processing=RefundStatus.PROCESSING,
        attempts="attempts",
        next_at="next_attempt_at",
    )


def _mine(refund: Refund):
    """The row as this worker claimed it: a re-drive since then makes every update a no-op."""
    return Refund.objects.filter(pk=refund.pk, status=RefundStatus.PROCESSING, attempts=refund.attempts)


def execute_refund(refund_id: int, *, now=None) -> None:
    """Ask the gateway to pay the refund; safe to run any number of times, concurrently."""
    from fenxiao.orders.services import after_sales

    now = now or timezone.now()
    refund = _claim(refund_id, now)
    if refund is None:
        return
    try:
        result = get_gateway(refund.payment.gateway).refund(
            out_trade_no=refund.payment.out_trade_no,
            out_refund_no=refund.out_refund_no,
            amount=refund.amount,
            reason=refund.reason,
            total=refund.payment.amount,
        )
    except Exception as exc:  # the far side did not answer: try again later, same number
        logger.warning("refund %s attempt %s got no answer: %r", refund.out_refund_no, refund.attempts, exc)
        _mine(refund).update(
            status=RefundStatus.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:300],
            next_attempt_at=timezone.now() + retry_delay(refund.attempts),
        )
        return
    if result.pending:
        # Taken by the gateway, still being paid out (WeChat Pay answers PROCESSING): asked
        # about again later under the same refund number, which cannot pay twice.
        _mine(refund).update(
            status=RefundStatus.PENDING,
            gateway_refund_id=result.gateway_refund_id,
            last_error=result.failure_reason or "渠道退款处理中",
            next_attempt_at=timezone.now() + retry_delay(refund.attempts),
        )
        return
    with transaction.atomic():
        target = RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED
        moved = _mine(refund).update(
            status=target,
            gateway_refund_id=result.gateway_refund_id,
            failure_reason=result.failure_reason[:200],
            last_error=result.failure_reason[:300],
            next_attempt_at=None,
            completed_at=timezone.now(),
        )
        if not moved:
            return  # re-driven meanwhile: the newer attempt records the (same) answer
        if result.succeeded and refund.after_sale_id:
            after_sales.refund_succeeded(refund.after_sale_id)
        if not result.succeeded:
            logger.error("refund %s failed: %s", refund.out_refund_no, result.failure_reason)


def _due(now) -> Q:
    return Q(status__in=[RefundStatus.PENDING, RefundStatus.PROCESSING]) & (
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
    )


def sweep(now=None, *, limit: int = SWEEP_LIMIT) -> int:
    """Re-drive refunds stuck `pending` or `processing` past their deadline.

    Each chunk is released in one short UPDATE (processing → pending: the worker that held
    it is gone) and its refunds are queued; the gateway is never called inside it.
    """
    now = now or timezone.now()

    def release(rows) -> list[int]:
        ids = list(rows.values_list("pk", flat=True))
        stuck = Refund.objects.filter(pk__in=ids, status=RefundStatus.PROCESSING)
        stuck.update(status=RefundStatus.PENDING, last_error="处理超时，已重新发起")
        Refund.objects.filter(pk__in=ids).update(next_attempt_at=now + CLAIM_TIMEOUT)
        return ids

    return effects.sweep(
        lambda: Refund.objects.filter(_due(now)),
        limit=limit,
        chunk=SWEEP_CHUNK,
        release=release,
        enqueue=_enqueue,
    )


def _enqueue(refund_id: int) -> None:
    from ..tasks import execute_refund as task

    task(refund_id)


def retry_refund(refund: Refund) -> Refund:
    """Staff re-drive a refund that is not done: pending, stuck processing, or failed."""
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("payment").filter(pk=refund.pk).first()
        if locked is None or locked.status not in RETRYABLE_REFUND:
            raise InvalidTransition(_("退款已完成，无需重试"), code="REFUND_NOT_RETRYABLE")
        if locked.status == RefundStatus.FAILED:
            # Money refused once may have been refunded another way since: check again.
            payment = Payment.objects.select_for_update().get(pk=locked.payment_id)
            others = (
                payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))["total"]
                or 0
            )
            if others + locked.amount > payment.amount:
                raise RefundExceedsPayment()
        changes = {
            "status": RefundStatus.PENDING,
            "failure_reason": "",
            "next_attempt_at": timezone.now() + CLAIM_TIMEOUT,
        }
        if locked.status == RefundStatus.FAILED:
            # A refused or closed refund is final at the gateway under its number: asking
            # again needs a new one (nothing was paid under the old).
            changes["out_refund_no"] = f"{locked.out_refund_no.split('-')[0]}-{locked.attempts + 1}"
        Refund.objects.filter(pk=locked.pk).update(**changes)
        for name, value in changes.items():
            setattr(locked, name, value)
        _schedule(locked.pk)
    return locked


def paid_payment(order: Order) -> Payment | None:
    return order.payments.filter(applied=True, status=PaymentStatus.SUCCEEDED).first()
