"""Electronic payouts of approved withdrawals (WeChat 商家转账 / Alipay 转账).

Paid at least once and exactly once, even when a worker dies mid-transfer. Approval sets
the payout `pending` in the same transaction; a worker claims it (`processing`, attempt + 1,
a deadline) in a short transaction, calls the payout adapter outside any transaction with
the withdrawal number as idempotency key, then records the answer only if its claim still
stands. A transfer that got no answer goes back to `pending` with a backoff; a worker
killed mid-call leaves `processing` past its deadline, which the sweeper puts back to
`pending` and queues again. The adapter answers a repeated number with the first transfer,
so a re-drive never pays twice. Staff may re-drive any payout still under way
(`retry_payout`).

A transfer the service accepted without settling it is `waiting`: WeChat's waits for the
distributor to confirm receipt in WeChat (its package is kept for the H5 button), a bank
may take a while. Its outcome arrives by a signed notification (`notified`), or the
sweeper asks for it (`check_payout`) at a pace that slows with its age; either way it is
recorded once, under the row lock, only while the payout is still under way.
"""

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.core import effects
from fenxiao.notices.services import events as notices

from ..errors import PayoutNotificationUnsupported, WithdrawalInvalid, WithdrawalNotFound
from ..models import RETRYABLE_PAYOUT, PayoutStatus, Withdrawal, WithdrawalStatus
from ..payouts import PayoutResult, adapter_name, gateway_for
from . import withdrawals

logger = logging.getLogger(__name__)

ELECTRONIC = withdrawals.ELECTRONIC
# How long a worker may hold a claimed transfer before it is presumed dead.
CLAIM_TIMEOUT = timedelta(minutes=5)
# A freshly approved payout is queued at once; the sweeper only steps in after this.
QUEUE_GRACE = timedelta(minutes=2)
SWEEP_CHUNK = 100
SWEEP_LIMIT = 1000
MANUAL_PAYOUT = gettext_noop("未配置自动打款通道，请人工转账后标记为已打款")
# A waiting transfer is asked about a minute after it was accepted, then less and less
# often (a sixth of its age), at most hourly: WeChat holds a transfer for the
# distributor's confirmation for a day.
POLL_MIN = timedelta(minutes=1)
CONFIRM_GAP = timedelta(seconds=30)
POLL_MAX = timedelta(hours=1)


def schedule(withdrawal_id: int) -> None:
    from ..tasks import execute_payout

    transaction.on_commit(lambda: execute_payout(withdrawal_id))


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a transfer that got no answer: 30 s, 1 min, 2 min … capped at 1 hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def poll_delay(withdrawal: Withdrawal, now) -> timedelta:
    age = now - (withdrawal.decided_at or withdrawal.created_at)
    return min(max(age / 6, POLL_MIN), POLL_MAX)


def _claim(withdrawal_id: int, now) -> Withdrawal | None:
    return effects.claim(
        Withdrawal.objects.filter(
            pk=withdrawal_id,
            status=WithdrawalStatus.APPROVED,
            method__in=ELECTRONIC,
            payout_status=PayoutStatus.PENDING,
        ),
        now + CLAIM_TIMEOUT,
        status="payout_status",
        processing=PayoutStatus.PROCESSING,
        attempts="payout_attempts",
        next_at="payout_next_at",
    )


def _record(withdrawal: Withdrawal, result: PayoutResult, now) -> None:
    """What the service said, on the locked row: paid, refused (the hold is released), or
    still waiting (asked again later)."""
    if result.succeeded:
        withdrawals.paid(
            withdrawal,
            payout_reference=(result.reference or "")[:64],
            payout_status=PayoutStatus.SUCCEEDED,
            payout_next_at=None,
            payout_package="",
        )
    elif result.waiting:
        fields = {
            "payout_status": PayoutStatus.WAITING,
            "payout_next_at": now + poll_delay(withdrawal, now),
            "payout_last_error": "",
        }
        if result.reference:
            fields["payout_reference"] = result.reference[:64]
        # Only the answer to the transfer itself carries WeChat's package; a later query
        # does not, and must not take the distributor's 确认收款 away.
        Withdrawal.objects.filter(pk=withdrawal.pk).update(**fields)
        if result.confirm_package:
            _keep_package(withdrawal, result.confirm_package)
    else:
        withdrawals.fail(withdrawal, result.failure_reason)


def _keep_package(withdrawal: Withdrawal, package: str) -> None:
    """WeChat's 收款确认 package for the distributor's 确认收款, and word that the money
    waits for them (once per withdrawal: the message's key)."""
    Withdrawal.objects.filter(pk=withdrawal.pk).update(payout_package=package)
    notices.withdrawal_to_confirm(
        user_id=withdrawal.distributor.user_id,
        withdrawal_id=withdrawal.pk,
        number=withdrawal.number,
        payout=withdrawal.payout,
    )


def execute_payout(withdrawal_id: int, *, now=None) -> None:
    """Transfer an approved electronic withdrawal, or ask how a waiting one ended; safe to
    run any number of times."""
    now = now or timezone.now()
    row = Withdrawal.objects.filter(pk=withdrawal_id).values("method", "payout_status").first()
    if row is None:
        return
    if adapter_name(row["method"]) is None:
        _without_adapter(withdrawal_id, now)
        return
    if row["payout_status"] == PayoutStatus.WAITING:
        check_payout(withdrawal_id, now=now)
        return
    claimed = _claim(withdrawal_id, now)
    if claimed is None:
        return
    try:
        result = gateway_for(claimed.method).transfer(
            out_biz_no=claimed.number, amount=claimed.payout, account=claimed.account
        )
    except Exception as exc:  # the far side did not answer: try again later, same number
        logger.warning("payout %s attempt %s got no answer: %r", claimed.number, claimed.payout_attempts, exc)
        Withdrawal.objects.filter(
            pk=claimed.pk, payout_status=PayoutStatus.PROCESSING, payout_attempts=claimed.payout_attempts
        ).update(
            payout_status=PayoutStatus.PENDING,
            payout_last_error=f"{type(exc).__name__}: {exc}"[:300],
            payout_next_at=timezone.now() + retry_delay(claimed.payout_attempts),
        )
        return
    with transaction.atomic():
        withdrawal = withdrawals.get_for_update(claimed.pk)
        if (
            withdrawal.status != WithdrawalStatus.APPROVED
            or withdrawal.payout_status != PayoutStatus.PROCESSING
            or withdrawal.payout_attempts != claimed.payout_attempts
        ):
            # Re-driven or told meanwhile: that answer is recorded. Only WeChat's package
            # may be in this answer alone, and the distributor needs it to confirm.
            if (
                result.confirm_package
                and not withdrawal.payout_package
                and withdrawal.payout_status in (RETRYABLE_PAYOUT)
            ):
                _keep_package(withdrawal, result.confirm_package)
            return
        _record(withdrawal, result, timezone.now())


def check_payout(withdrawal_id: int, *, now=None) -> None:
    """Ask the service how a waiting transfer stands, and record it. Asking moves no money,
    so it needs no claim: the answer is recorded only if the payout is still waiting."""
    now = now or timezone.now()
    waiting = Withdrawal.objects.filter(
        pk=withdrawal_id, status=WithdrawalStatus.APPROVED, payout_status=PayoutStatus.WAITING
    ).first()
    if waiting is None:
        return
    try:
        result = gateway_for(waiting.method).query(
            out_biz_no=waiting.number, amount=waiting.payout, account=waiting.account
        )
    except Exception as exc:
        logger.warning("payout %s: asking its outcome got no answer: %r", waiting.number, exc)
        Withdrawal.objects.filter(pk=waiting.pk, payout_status=PayoutStatus.WAITING).update(
            payout_last_error=f"{type(exc).__name__}: {exc}"[:300],
            payout_next_at=timezone.now() + poll_delay(waiting, now),
        )
        return
    with transaction.atomic():
        withdrawal = withdrawals.get_for_update(waiting.pk)
        if (
            withdrawal.status == WithdrawalStatus.APPROVED
            and withdrawal.payout_status == PayoutStatus.WAITING
        ):
            _record(withdrawal, result, timezone.now())


def notified(method: str, headers: dict[str, str], body: bytes) -> str:
    """A payout service's signed notification of how a transfer ended. Raises (the
    gateway's errors) when it does not verify; returns what became of it."""
    if adapter_name(method) is None:
        raise PayoutNotificationUnsupported()
    notice = gateway_for(method).parse_notification(headers, body)
    with transaction.atomic():
        withdrawal = (
            Withdrawal.objects.select_for_update().filter(number=notice.out_biz_no, method=method).first()
        )
        if withdrawal is None:
            logger.warning("payout notification for unknown transfer %s", notice.out_biz_no)
            return "unknown"
        if notice.amount != withdrawal.payout:
            logger.error(
                "payout notification for %s says %s fen, the withdrawal pays %s",
                withdrawal.number,
                notice.amount,
                withdrawal.payout,
            )
            return "amount_mismatch"
        if withdrawal.status != WithdrawalStatus.APPROVED or withdrawal.payout_status not in RETRYABLE_PAYOUT:
            return "already_recorded"
        _record(withdrawal, notice.result, timezone.now())
    return "recorded"


def confirmed_by_distributor(distributor, number: str) -> Withdrawal:
    """The distributor says they confirmed receipt in WeChat: ask for the outcome now,
    rather than at the next poll."""
    withdrawal = Withdrawal.objects.filter(number=number, distributor=distributor).first()
    if withdrawal is None:
        raise WithdrawalNotFound()
    # At most one check per withdrawal every CONFIRM_GAP, in the shared cache: a loop of
    # taps must not spend the merchant's query quota.
    if not cache.add(f"payout-confirmed:{withdrawal.pk}", 1, int(CONFIRM_GAP.total_seconds())):
        return withdrawal
    updated = Withdrawal.objects.filter(
        pk=withdrawal.pk, status=WithdrawalStatus.APPROVED, payout_status=PayoutStatus.WAITING
    ).update(payout_next_at=timezone.now())
    if updated:
        with transaction.atomic():
            schedule(withdrawal.pk)
    return withdrawal


def _without_adapter(withdrawal_id: int, now) -> None:
    """The method's payout adapter was taken away after approval. A transfer never tried
    is handed to finance to pay by hand; one already tried may have gone through, so it is
    only looked at again hourly until the adapter is back or finance marks it paid."""
    # A transfer `processing` is left to its worker, or to the sweeper past its deadline.
    under_way = Withdrawal.objects.filter(
        pk=withdrawal_id,
        status=WithdrawalStatus.APPROVED,
        method__in=ELECTRONIC,
        payout_status__in=[PayoutStatus.PENDING, PayoutStatus.WAITING],
    )
    under_way.filter(payout_status=PayoutStatus.PENDING, payout_attempts=0).update(
        payout_status=PayoutStatus.NONE, payout_next_at=None, payout_last_error=MANUAL_PAYOUT
    )
    under_way.filter(Q(payout_attempts__gt=0) | Q(payout_status=PayoutStatus.WAITING)).update(
        payout_next_at=now + timedelta(hours=1),
        payout_last_error=gettext_noop("自动打款通道已停用，上次打款结果未知，请核实后处理"),
    )


def _due(now) -> Q:
    return Q(
        status=WithdrawalStatus.APPROVED,
        method__in=ELECTRONIC,
        payout_status__in=RETRYABLE_PAYOUT,
    ) & (Q(payout_next_at__lte=now) | Q(payout_next_at__isnull=True))


def sweep_payouts(now=None, *, limit: int = SWEEP_LIMIT) -> int:
    """Re-drive payouts due again or stuck `processing` past their deadline, and ask after
    waiting ones that are due, in chunks."""
    from ..tasks import execute_payout as task

    now = now or timezone.now()

    def release(rows) -> list[int]:
        released = list(rows.values_list("pk", flat=True))
        Withdrawal.objects.filter(pk__in=released, payout_status=PayoutStatus.PROCESSING).update(
            payout_status=PayoutStatus.PENDING, payout_last_error=gettext_noop("打款超时，已重新发起")
        )
        # Not due again before the queued run has had its chance.
        Withdrawal.objects.filter(pk__in=released).update(payout_next_at=now + CLAIM_TIMEOUT)
        return released

    return effects.sweep(
        lambda: Withdrawal.objects.filter(_due(now)),
        limit=limit,
        chunk=SWEEP_CHUNK,
        release=release,
        enqueue=task,
    )


def retry_payout(withdrawal: Withdrawal, staff) -> Withdrawal:
    """Staff re-drive an electronic payout still under way (a waiting one is asked now)."""
    with transaction.atomic():
        withdrawal = withdrawals.get_for_update(withdrawal.pk)
        if withdrawal.status != WithdrawalStatus.APPROVED or withdrawal.method not in ELECTRONIC:
            raise WithdrawalInvalid(
                _("提现单%(status)s，没有进行中的自动打款") % {"status": withdrawal.get_status_display()},
                code="PAYOUT_NOT_RETRYABLE",
                status=409,
            )
        if withdrawal.payout_status not in RETRYABLE_PAYOUT:
            raise WithdrawalInvalid(_("打款已结束，无需重试"), code="PAYOUT_NOT_RETRYABLE", status=409)
        if withdrawal.payout_status == PayoutStatus.WAITING:
            Withdrawal.objects.filter(pk=withdrawal.pk).update(payout_next_at=timezone.now() + CLAIM_TIMEOUT)
        else:
            Withdrawal.objects.filter(pk=withdrawal.pk).update(
                payout_status=PayoutStatus.PENDING, payout_next_at=timezone.now() + CLAIM_TIMEOUT
            )
            withdrawal.payout_status = PayoutStatus.PENDING
        schedule(withdrawal.pk)
    return withdrawal


def cancel_payout(withdrawal: Withdrawal, staff) -> Withdrawal:
    """Staff withdraw a transfer the distributor has not confirmed (WeChat 商家转账): once
    the service says it is cancelled, the withdrawal fails and the hold is released."""
    withdrawal = Withdrawal.objects.filter(pk=withdrawal.pk).first()
    if withdrawal is None:
        raise WithdrawalNotFound()
    gateway = gateway_for(withdrawal.method) if adapter_name(withdrawal.method) else None
    cancel = getattr(gateway, "cancel", None)
    if withdrawal.status != WithdrawalStatus.APPROVED or withdrawal.payout_status != PayoutStatus.WAITING:
        raise WithdrawalInvalid(_("只有待到账的转账可以撤销"), code="PAYOUT_NOT_CANCELLABLE", status=409)
    if cancel is None:
        raise WithdrawalInvalid(_("该打款通道不支持撤销转账"), code="PAYOUT_NOT_CANCELLABLE", status=409)
    try:
        result = cancel(withdrawal.number)
    except Exception as exc:
        logger.warning("payout %s: cancelling got no answer: %r", withdrawal.number, exc)
        raise WithdrawalInvalid(
            _("撤销请求未得到答复，请稍后重试"), code="PAYOUT_CANCEL_UNANSWERED", status=503
        ) from exc
    with transaction.atomic():
        locked = withdrawals.get_for_update(withdrawal.pk)
        if locked.status == WithdrawalStatus.APPROVED and locked.payout_status == PayoutStatus.WAITING:
            _record(locked, result, timezone.now())
    return locked
