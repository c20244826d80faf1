"""Withdrawals: checked and held on request; approved, paid or failed, rejected by finance.

A request locks the distributor's row, so simultaneous requests are checked one after the
other against the balance: the ledger can never be overdrawn.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from fenxiao.core.money import apply_bp, format_fen
from fenxiao.orders.services.events import new_number

from ..errors import (
    WithdrawalAboveBalance,
    WithdrawalAboveMaximum,
    WithdrawalBelowMinimum,
    WithdrawalInvalid,
    WithdrawalLimitReached,
    WithdrawalNotFound,
)
from ..models import (
    WITHDRAWAL_FLOW,
    Cycle,
    Distributor,
    DistributorStatus,
    LedgerEntry,
    LedgerKind,
    PayoutMethod,
    Withdrawal,
    WithdrawalStatus,
)
from . import config, ledger

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
    labels = {"name": "收款人姓名", "bank": "开户银行", "account": "收款账号"}
    for field in ACCOUNT_FIELDS[method]:
        if not account.get(field):
            raise WithdrawalInvalid(f"请填写{labels[field]}")
    return {k: account[k] for k in ACCOUNT_FIELDS[method]}


def request(
    distributor: Distributor, *, amount: int, method: str, account: dict | None = None, now=None
) -> Withdrawal:
    cfg = config.current()
    now = now or timezone.now()
    if method not in cfg.methods:
        raise WithdrawalInvalid("不支持该提现方式")
    if amount <= 0:
        raise WithdrawalInvalid("提现金额必须大于0")
    if amount < cfg.withdraw_min:
        raise WithdrawalBelowMinimum(f"最低提现 {format_fen(cfg.withdraw_min)}")
    if amount > cfg.withdraw_max:
        raise WithdrawalAboveMaximum(f"单次最高提现 {format_fen(cfg.withdraw_max)}")
    account = _clean_account(method, account or {})
    fee = apply_bp(amount, cfg.withdraw_fee_bp)
    if amount - fee <= 0:
        raise WithdrawalInvalid("扣除手续费后到账金额必须大于0")
    with transaction.atomic():
        locked = ledger.lock(distributor.pk)
        if locked.status != DistributorStatus.ACTIVE:
            raise WithdrawalInvalid("分销资格暂停期间不能提现", code="DISTRIBUTOR_INACTIVE", status=409)
        available = ledger.balance(locked.pk)
        if available < 0:
            raise WithdrawalAboveBalance(
                f"账户余额为 {format_fen(available)}（退款追回），需由后续佣金抵扣后才能提现"
            )
        if amount > available:
            raise WithdrawalAboveBalance(f"可提现余额 {format_fen(available)}")
        used = (
            Withdrawal.objects.filter(
                distributor=locked, created_at__gte=period_start(cfg.withdraw_period, now)
            )
            .exclude(status__in=[WithdrawalStatus.REJECTED, WithdrawalStatus.FAILED])
            .count()
        )
        if used >= cfg.withdraw_limit:
            raise WithdrawalLimitReached(
                f"本{Cycle(cfg.withdraw_period).label[0]}最多提现{cfg.withdraw_limit}次"
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
    return withdrawal


def get_for_update(withdrawal_id: int) -> Withdrawal:
    withdrawal = Withdrawal.objects.select_for_update().filter(pk=withdrawal_id).first()
    if withdrawal is None:
        raise WithdrawalNotFound()
    return withdrawal


def _move(withdrawal: Withdrawal, target: str, **fields) -> None:
    WITHDRAWAL_FLOW.move(withdrawal, target, stale="提现单状态已变化，请刷新后重试", **fields)


def _release(withdrawal: Withdrawal, note: str) -> None:
    LedgerEntry.objects.create(
        distributor_id=withdrawal.distributor_id,
        kind=LedgerKind.WITHDRAWAL_RELEASE,
        amount=withdrawal.amount,
        source_key=f"withdrawal-release:{withdrawal.pk}",
        withdrawal=withdrawal,
        note=note,
    )


def approve(withdrawal: Withdrawal, staff) -> Withdrawal:
    """Approve; electronic payouts go out through the payout adapter in the background,
    store credit is paid at once, bank transfers wait for finance to mark them paid."""
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        _move(withdrawal, WithdrawalStatus.APPROVED, decided_by=staff, decided_at=timezone.now())
        if withdrawal.method == PayoutMethod.STORE_CREDIT:
            _credit_wallet(withdrawal)
            _move(
                withdrawal,
                WithdrawalStatus.PAID,
                paid_at=timezone.now(),
                payout_reference=f"WALLET-{withdrawal.number}",
            )
        elif withdrawal.method in (PayoutMethod.WECHAT, PayoutMethod.ALIPAY):
            from ..tasks import execute_payout

            transaction.on_commit(lambda: execute_payout(withdrawal.pk))
    return withdrawal


def _credit_wallet(withdrawal: Withdrawal) -> None:
    from fenxiao.customers.models import WalletEntry

    WalletEntry.objects.create(
        user_id=withdrawal.distributor.user_id,
        amount=withdrawal.payout,
        source_key=f"withdrawal:{withdrawal.pk}",
        note=f"佣金提现到商城余额 {withdrawal.number}",
    )


def execute_payout(withdrawal_id: int) -> None:
    from ..payouts import gateway_for

    withdrawal = Withdrawal.objects.filter(pk=withdrawal_id, status=WithdrawalStatus.APPROVED).first()
    if withdrawal is None or withdrawal.method not in (PayoutMethod.WECHAT, PayoutMethod.ALIPAY):
        return
    result = gateway_for(withdrawal.method).transfer(
        out_biz_no=withdrawal.number, amount=withdrawal.payout, account=withdrawal.account
    )
    if result.succeeded:
        mark_paid(withdrawal, None, reference=result.reference)
    else:
        mark_failed(withdrawal, None, reason=result.failure_reason)


def reject(withdrawal: Withdrawal, staff, *, reason: str) -> Withdrawal:
    reason = (reason or "").strip()
    if not reason:
        raise WithdrawalInvalid("请填写拒绝原因")
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
    return withdrawal


def mark_paid(withdrawal: Withdrawal, staff, *, reference: str = "") -> Withdrawal:
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        _move(
            withdrawal, WithdrawalStatus.PAID, paid_at=timezone.now(), payout_reference=(reference or "")[:64]
        )
    return withdrawal


def mark_failed(withdrawal: Withdrawal, staff, *, reason: str) -> Withdrawal:
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        _move(withdrawal, WithdrawalStatus.FAILED, failure_reason=(reason or "打款失败")[:200])
        _release(withdrawal, f"打款失败，金额退回：{withdrawal.failure_reason}")
    return withdrawal
