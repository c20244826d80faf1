"""Withdrawals: checked and held on request; approved, paid or failed, rejected by finance.

A request locks the distributor's row, so simultaneous requests are checked one after the
other against the balance: the ledger can never be overdrawn.

Electronic payouts (WeChat / Alipay) are paid at least once and exactly once, even when a
worker dies mid-transfer. Approval sets the payout `pending` in the same transaction; a
worker claims it (`processing`, attempt + 1, a deadline) in a short transaction, calls
the payout adapter outside any transaction with the withdrawal number as idempotency key,
then records the answer only if its claim still stands. A transfer that got no answer goes
back to `pending` with a backoff; a worker killed mid-call leaves `processing` past its
deadline, which the sweeper puts back to `pending` and queues again. The adapter answers a
repeated number with the first transfer, so a re-drive never pays twice. Staff may re-drive
any payout still pending or processing (`retry_payout`).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core import effects
from fenxiao.core.money import apply_bp, format_fen
from fenxiao.notices.services import events as notices
from fenxiao.orders.services.events import new_number
from fenxiao.webhooks.services import events as webhooks

from ..errors import (
    WithdrawalAboveBalance,
    WithdrawalAboveMaximum,
    WithdrawalBelowMinimum,
    WithdrawalInvalid,
    WithdrawalLimitReached,
    WithdrawalNotFound,
)
from ..models import (
    RETRYABLE_PAYOUT,
    WITHDRAWAL_FLOW,
    Cycle,
    Distributor,
    LedgerEntry,
    LedgerKind,
    PayoutMethod,
    PayoutStatus,
    Withdrawal,
    WithdrawalStatus,
)
from . import config, ledger, totals

logger = logging.getLogger(__name__)

ELECTRONIC = (PayoutMethod.WECHAT, PayoutMethod.ALIPAY)
# How long a worker may hold a claimed transfer before it is presumed dead.
CLAIM_TIMEOUT = timedelta(minutes=5)
# A freshly approved payout is queued at once; the sweeper only steps in after this.
QUEUE_GRACE = timedelta(minutes=2)
SWEEP_CHUNK = 100
SWEEP_LIMIT = 1000
MANUAL_PAYOUT = "未配置自动打款通道，请人工转账后标记为已打款"

ACCOUNT_FIELDS = {
    PayoutMethod.BANK: ("name", "bank", "account"),
    PayoutMethod.WECHAT: ("name", "account"),
    PayoutMethod.ALIPAY: ("name", "account"),
    PayoutMethod.STORE_CREDIT: (),
}


def period_start(period: str, now):
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Cycle.WEEKLY:
        return start - timedelta(days=start.weekday())
    if period == Cycle.MONTHLY:
        return start.replace(day=1)
    return start


def _clean_account(method: str, account: dict) -> dict:
    account = {k: str(v).strip()[:60] for k, v in (account or {}).items() if v is not None}
    missing = {"name": _("请填写收款人姓名"), "bank": _("请填写开户银行"), "account": _("请填写收款账号")}
    for field in ACCOUNT_FIELDS[method]:
        if not account.get(field):
            raise WithdrawalInvalid(missing[field])
    return {k: account[k] for k in ACCOUNT_FIELDS[method]}


def request(
    distributor: Distributor, *, amount: int, method: str, account: dict | None = None, now=None
) -> Withdrawal:
    cfg = config.current()
    now = now or timezone.now()
    if method not in cfg.methods:
        raise WithdrawalInvalid(_("不支持该提现方式"))
    if amount <= 0:
        raise WithdrawalInvalid(_("提现金额必须大于0"))
    if amount < cfg.withdraw_min:
        raise WithdrawalBelowMinimum(_("最低提现 %(amount)s") % {"amount": format_fen(cfg.withdraw_min)})
    if amount > cfg.withdraw_max:
        raise WithdrawalAboveMaximum(_("单次最高提现 %(amount)s") % {"amount": format_fen(cfg.withdraw_max)})
    account = _clean_account(method, account or {})
    fee = apply_bp(amount, cfg.withdraw_fee_bp)
    if amount - fee <= 0:
        raise WithdrawalInvalid(_("扣除手续费后到账金额必须大于0"))
    with transaction.atomic():
        locked = ledger.lock(distributor.pk)
        if not locked.may_withdraw:
            raise WithdrawalInvalid(_("分销资格暂停期间不能提现"), code="DISTRIBUTOR_INACTIVE", status=409)
        available = ledger.balance(locked.pk)
        if available < 0:
            raise WithdrawalAboveBalance(
                _("账户余额为 %(amount)s（退款追回），需由后续佣金抵扣后才能提现")
                % {"amount": format_fen(available)}
            )
        if amount > available:
            raise WithdrawalAboveBalance(_("可提现余额 %(amount)s") % {"amount": format_fen(available)})
        used = (
            Withdrawal.objects.filter(
                distributor=locked, created_at__gte=period_start(cfg.withdraw_period, now)
            )
            .exclude(status__in=[WithdrawalStatus.REJECTED, WithdrawalStatus.FAILED])
            .count()
        )
        if used >= cfg.withdraw_limit:
            raise WithdrawalLimitReached(
                {
                    Cycle.DAILY: _("本日最多提现%(count)s次"),
                    Cycle.WEEKLY: _("本周最多提现%(count)s次"),
                    Cycle.MONTHLY: _("本月最多提现%(count)s次"),
                }[cfg.withdraw_period]
                % {"count": cfg.withdraw_limit}
            )
        withdrawal = Withdrawal.objects.create(
            number=new_number("W"),
            distributor=locked,
            amount=amount,
            fee=fee,
            payout=amount - fee,
            method=method,
            account=account,
        )
        LedgerEntry.objects.create(
            distributor=locked,
            kind=LedgerKind.WITHDRAWAL_HOLD,
            amount=-amount,
            source_key=f"withdrawal-hold:{withdrawal.pk}",
            withdrawal=withdrawal,
            note=f"提现申请 {withdrawal.number}",
        )
        totals.add({locked.pk: {"balance": -amount}})
    return withdrawal


def get_for_update(withdrawal_id: int) -> Withdrawal:
    withdrawal = Withdrawal.objects.select_for_update().filter(pk=withdrawal_id).first()
    if withdrawal is None:
        raise WithdrawalNotFound()
    return withdrawal


def _move(withdrawal: Withdrawal, target: str, **fields) -> None:
    WITHDRAWAL_FLOW.move(withdrawal, target, stale=_("提现单状态已变化，请刷新后重试"), **fields)


def _release(withdrawal: Withdrawal, note: str) -> None:
    LedgerEntry.objects.create(
        distributor_id=withdrawal.distributor_id,
        kind=LedgerKind.WITHDRAWAL_RELEASE,
        amount=withdrawal.amount,
        source_key=f"withdrawal-release:{withdrawal.pk}",
        withdrawal=withdrawal,
        note=note,
    )
    totals.add({withdrawal.distributor_id: {"balance": withdrawal.amount}})


def _paid(withdrawal: Withdrawal, **fields) -> None:
    """The money went out: the withdrawal is paid and counts as withdrawn."""
    _move(withdrawal, WithdrawalStatus.PAID, paid_at=timezone.now(), **fields)
    totals.add({withdrawal.distributor_id: {"withdrawn": withdrawal.amount}})
    notices.withdrawal_paid(
        user_id=withdrawal.distributor.user_id,
        withdrawal_id=withdrawal.pk,
        number=withdrawal.number,
        payout=withdrawal.payout,
    )
    webhooks.withdrawal_paid(
        withdrawal_id=withdrawal.pk,
        number=withdrawal.number,
        distributor_id=withdrawal.distributor_id,
        amount=withdrawal.amount,
        fee=withdrawal.fee,
        payout=withdrawal.payout,
        method=withdrawal.method,
        paid_at=withdrawal.paid_at,
    )


def approve(withdrawal: Withdrawal, staff) -> Withdrawal:
    """Approve; electronic payouts go out through the payout adapter in the background,
    store credit is paid at once, bank transfers (and electronic ones with no adapter set
    up) wait for finance to transfer the money and mark them paid."""
    from ..payouts import adapter_name

    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        _move(withdrawal, WithdrawalStatus.APPROVED, decided_by=staff, decided_at=timezone.now())
        if withdrawal.method == PayoutMethod.STORE_CREDIT:
            _credit_wallet(withdrawal)
            _paid(withdrawal, payout_reference=f"WALLET-{withdrawal.number}")
        elif withdrawal.method in ELECTRONIC and adapter_name(withdrawal.method):
            Withdrawal.objects.filter(pk=withdrawal.pk).update(
                payout_status=PayoutStatus.PENDING, payout_next_at=timezone.now() + QUEUE_GRACE
            )
            withdrawal.payout_status = PayoutStatus.PENDING
            _schedule(withdrawal.pk)
    return withdrawal


def _schedule(withdrawal_id: int) -> None:
    from ..tasks import execute_payout

    transaction.on_commit(lambda: execute_payout(withdrawal_id))


def _credit_wallet(withdrawal: Withdrawal) -> None:
    from fenxiao.customers.models import WalletEntry

    WalletEntry.objects.create(
        user_id=withdrawal.distributor.user_id,
        amount=withdrawal.payout,
        source_key=f"withdrawal:{withdrawal.pk}",
        note=f"佣金提现到商城余额 {withdrawal.number}",
    )


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a transfer that got no answer: 30 s, 1 min, 2 min … capped at 1 hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


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


def _still_mine(claimed: Withdrawal) -> Withdrawal | None:
    """The locked row if this worker's claim still stands (not re-driven since)."""
    withdrawal = get_for_update(claimed.pk)
    if (
        withdrawal.status != WithdrawalStatus.APPROVED
        or withdrawal.payout_status != PayoutStatus.PROCESSING
        or withdrawal.payout_attempts != claimed.payout_attempts
    ):
        return None
    return withdrawal


def execute_payout(withdrawal_id: int, *, now=None) -> None:
    """Transfer an approved electronic withdrawal; safe to run any number of times."""
    from ..payouts import adapter_name, gateway_for

    now = now or timezone.now()
    method = Withdrawal.objects.filter(pk=withdrawal_id).values_list("method", flat=True).first()
    if method is None:
        return
    if adapter_name(method) is None:
        _without_adapter(withdrawal_id, now)
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
        withdrawal = _still_mine(claimed)
        if withdrawal is None:
            return  # re-driven meanwhile: the newer attempt records the (same) answer
        if result.succeeded:
            _paid(
                withdrawal,
                payout_reference=(result.reference or "")[:64],
                payout_status=PayoutStatus.SUCCEEDED,
                payout_next_at=None,
            )
        else:
            _fail(withdrawal, result.failure_reason)


def _without_adapter(withdrawal_id: int, now) -> None:
    """The method's payout adapter was taken away after approval. A transfer never tried
    is handed to finance to pay by hand; one already tried may have gone through, so it is
    only looked at again hourly until the adapter is back or finance marks it paid."""
    # A transfer `processing` is left to its worker, or to the sweeper past its deadline.
    waiting = Withdrawal.objects.filter(
        pk=withdrawal_id,
        status=WithdrawalStatus.APPROVED,
        method__in=ELECTRONIC,
        payout_status=PayoutStatus.PENDING,
    )
    waiting.filter(payout_attempts=0).update(
        payout_status=PayoutStatus.NONE, payout_next_at=None, payout_last_error=MANUAL_PAYOUT
    )
    waiting.filter(payout_attempts__gt=0).update(
        payout_next_at=now + timedelta(hours=1),
        payout_last_error="自动打款通道已停用，上次打款结果未知，请核实后处理",
    )


def _due(now) -> Q:
    return Q(
        status=WithdrawalStatus.APPROVED,
        method__in=ELECTRONIC,
        payout_status__in=[PayoutStatus.PENDING, PayoutStatus.PROCESSING],
    ) & (Q(payout_next_at__lte=now) | Q(payout_next_at__isnull=True))


def sweep_payouts(now=None, *, limit: int = SWEEP_LIMIT) -> int:
    """Re-drive payouts due again or stuck `processing` past their deadline, in chunks."""
    from ..tasks import execute_payout as task

    now = now or timezone.now()

    def release(rows) -> list[int]:
        released = list(rows.values_list("pk", flat=True))
        Withdrawal.objects.filter(pk__in=released, payout_status=PayoutStatus.PROCESSING).update(
            payout_status=PayoutStatus.PENDING, payout_last_error="打款超时，已重新发起"
        )
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
    """Staff re-drive an electronic payout that is still pending or stuck processing."""
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        if withdrawal.status != WithdrawalStatus.APPROVED or withdrawal.method not in ELECTRONIC:
            raise WithdrawalInvalid(
                _("提现单%(status)s，没有进行中的自动打款") % {"status": withdrawal.get_status_display()},
                code="PAYOUT_NOT_RETRYABLE",
                status=409,
            )
        if withdrawal.payout_status not in RETRYABLE_PAYOUT:
            raise WithdrawalInvalid(_("打款已结束，无需重试"), code="PAYOUT_NOT_RETRYABLE", status=409)
        Withdrawal.objects.filter(pk=withdrawal.pk).update(
            payout_status=PayoutStatus.PENDING, payout_next_at=timezone.now() + CLAIM_TIMEOUT
        )
        withdrawal.payout_status = PayoutStatus.PENDING
        _schedule(withdrawal.pk)
    return withdrawal


def reject(withdrawal: Withdrawal, staff, *, reason: str) -> Withdrawal:
    reason = (reason or "").strip()
    if not reason:
        raise WithdrawalInvalid(_("请填写拒绝原因"))
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        _move(
            withdrawal,
            WithdrawalStatus.REJECTED,
            decided_by=staff,
            decided_at=timezone.now(),
            reject_reason=reason[:200],
        )
        _release(withdrawal, f"提现被拒绝，金额退回：{reason}")
        notices.withdrawal_rejected(
            user_id=withdrawal.distributor.user_id,
            withdrawal_id=withdrawal.pk,
            number=withdrawal.number,
            amount=withdrawal.amount,
            reason=reason[:200],
        )
    return withdrawal


def _closed_payout(withdrawal: Withdrawal, outcome: str) -> dict:
    """Finance settled an electronic payout by hand: the sweeper must not drive it again."""
    if withdrawal.payout_status:
        return {"payout_status": outcome, "payout_next_at": None}
    return {}


def mark_paid(withdrawal: Withdrawal, staff, *, reference: str = "") -> Withdrawal:
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        _paid(
            withdrawal,
            payout_reference=(reference or "")[:64],
            **_closed_payout(withdrawal, PayoutStatus.SUCCEEDED),
        )
    return withdrawal


def _fail(withdrawal: Withdrawal, reason: str) -> None:
    _move(
        withdrawal,
        WithdrawalStatus.FAILED,
        failure_reason=(reason or "打款失败")[:200],
        **_closed_payout(withdrawal, PayoutStatus.FAILED),
    )
    _release(withdrawal, f"打款失败，金额退回：{withdrawal.failure_reason}")


def mark_failed(withdrawal: Withdrawal, staff, *, reason: str) -> Withdrawal:
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        if withdrawal.payout_status in RETRYABLE_PAYOUT and withdrawal.payout_attempts:
            # The transfer may have gone through: releasing the hold now could pay twice.
            raise WithdrawalInvalid(
                _("自动打款结果未知，请先重试打款确认结果"), code="PAYOUT_IN_FLIGHT", status=409
            )
        _fail(withdrawal, reason)
    return withdrawal
