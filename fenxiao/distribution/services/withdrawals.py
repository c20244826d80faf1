"""Withdrawals: checked and held on request; approved, paid or failed, rejected by finance.

A request locks the distributor's row, so simultaneous requests are checked one after the
other against the balance: the ledger can never be overdrawn. Electronic payouts (WeChat /
Alipay) go out through `payouts`, which records their outcome here (`paid`, `fail`).
"""

import re
import unicodedata
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as _noop

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
    texts,
)
from . import config, ledger, totals

ELECTRONIC = (PayoutMethod.WECHAT, PayoutMethod.ALIPAY)

ACCOUNT_FIELDS = {
    PayoutMethod.BANK: ("name", "bank", "account"),
    PayoutMethod.WECHAT: ("name", "account"),
    PayoutMethod.ALIPAY: ("name", "account"),
    PayoutMethod.STORE_CREDIT: (),
}

# What an account number must look like before a payout is tried on it: an Alipay login is
# a mainland mobile number or an email, a bank card 12–19 digits (typed in groups or not).
# A wrong one would only come back days later as a failed payout. ASCII: Python's \d also
# takes other scripts' digits, which no bank or Alipay would pay to.
ACCOUNT_FORMATS = {
    PayoutMethod.ALIPAY: (
        re.compile(r"1\d{10}|[^@\s]+@[^@\s]+\.[^@\s]+", re.ASCII),
        _noop("支付宝账号应为手机号或邮箱"),
    ),
    PayoutMethod.BANK: (re.compile(r"\d{12,19}", re.ASCII), _noop("银行卡号应为 12–19 位数字")),
}


def period_start(period: str, now):
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Cycle.WEEKLY:
        return start - timedelta(days=start.weekday())
    if period == Cycle.MONTHLY:
        return start.replace(day=1)
    return start


def next_period_start(period: str, now):
    """The first moment of the period after the one `now` is in (shop time)."""
    start = period_start(period, now)
    if period == Cycle.WEEKLY:
        return start + timedelta(days=7)
    if period == Cycle.MONTHLY:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def _used_in_period(distributor_id: int, period: str, now) -> int:
    """Requests that count against 每日/每周/每月最多 N 次: this period's, except those
    rejected or failed (their hold went back)."""
    return (
        Withdrawal.objects.filter(distributor_id=distributor_id, created_at__gte=period_start(period, now))
        .exclude(status__in=[WithdrawalStatus.REJECTED, WithdrawalStatus.FAILED])
        .count()
    )


def reopens_at(distributor: Distributor, cfg=None, now=None):
    """When a distributor who has used up this period's requests may ask again (the start
    of the next period), or None while they may ask now. One query. The withdraw page says
    so instead of offering a form that `request` would refuse."""
    cfg = cfg or config.current()
    now = now or timezone.now()
    if _used_in_period(distributor.pk, cfg.withdraw_period, now) < cfg.withdraw_limit:
        return None
    return next_period_start(cfg.withdraw_period, now)


def account_fields(method: str) -> tuple[str, ...]:
    """What a withdrawal by `method` asks the distributor for. WeChat 商家转账 pays the WeChat
    user holding the browser (their openid), so only the name it checks is asked."""
    from ..payouts import pays_by_openid

    return ("name",) if pays_by_openid(method) else ACCOUNT_FIELDS[method]


def _clean_account(method: str, account: dict, *, user_id: int, openid: str | None) -> dict:
    from ..payouts import pays_by_openid

    account = {k: str(v).strip()[:60] for k, v in (account or {}).items() if v is not None}
    by_openid = pays_by_openid(method)
    missing = {"name": _("请填写收款人姓名"), "bank": _("请填写开户银行"), "account": _("请填写收款账号")}
    fields = account_fields(method)
    for field in fields:
        if not account.get(field):
            raise WithdrawalInvalid(missing[field])
    cleaned = {k: account[k] for k in fields}
    if "account" in cleaned:
        # A Chinese IME types full-width digits and ＠ (６２２２…); finance pays, and risk
        # compares, the ASCII number, so it is checked and stored as ASCII.
        cleaned["account"] = unicodedata.normalize("NFKC", cleaned["account"])
    if "account" in cleaned and method in ACCOUNT_FORMATS:
        pattern, message = ACCOUNT_FORMATS[method]
        if not pattern.fullmatch(re.sub(r"[\s-]", "", cleaned["account"])):
            raise WithdrawalInvalid(_(message), code="ACCOUNT_INVALID")
    if by_openid:
        # WeChat 商家转账 pays a WeChat user, named by their openid under the 公众号: the one
        # this browser learnt in WeChat, else the one bound to the account (API clients).
        cleaned["openid"] = openid or _bound_openid(user_id)
        if not cleaned["openid"]:
            raise WithdrawalInvalid(
                _("提现到微信零钱需在微信中打开商城，授权后再申请"), code="WECHAT_NOT_BOUND", status=409
            )
    return cleaned


def _bound_openid(user_id: int) -> str:
    from fenxiao.customers.models import WechatIdentity
    from fenxiao.customers.services import wechat_oauth

    return (
        WechatIdentity.objects.filter(user_id=user_id, appid=wechat_oauth.appid())
        .values_list("openid", flat=True)
        .first()
        or ""
    )


def request(
    distributor: Distributor,
    *,
    amount: int,
    method: str,
    account: dict | None = None,
    openid: str | None = None,
    now=None,
) -> Withdrawal:
    """Hold `amount` for a withdrawal. `openid`: the WeChat user this browser learnt, who
    receives a withdrawal to 微信零钱 paid by WeChat 商家转账."""
    cfg = config.current()
    now = now or timezone.now()
    if method not in cfg.methods:
        raise WithdrawalInvalid(_("不支持该提现方式"))
    if amount <= 0:
        raise WithdrawalInvalid(_("提现金额必须大于0"))
    if amount < cfg.withdraw_min:
        raise WithdrawalBelowMinimum(_("最低提现 %(amount)s") % {"amount": format_fen(cfg.withdraw_min)})
    account = _clean_account(method, account or {}, user_id=distributor.user_id, openid=openid)
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
        # After the balance: asking ¥9,999 of ¥44.28 is answered with the balance, which is
        # what stands in the way, not with the single-request maximum.
        if amount > cfg.withdraw_max:
            raise WithdrawalAboveMaximum(
                _("单次最高提现 %(amount)s") % {"amount": format_fen(cfg.withdraw_max)}
            )
        if _used_in_period(locked.pk, cfg.withdraw_period, now) >= cfg.withdraw_limit:
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
            note=texts.WITHDRAWAL_HOLD % {"number": withdrawal.number},
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


def paid(withdrawal: Withdrawal, **fields) -> None:
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
    from . import payouts

    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        _move(withdrawal, WithdrawalStatus.APPROVED, decided_by=staff, decided_at=timezone.now())
        if withdrawal.method == PayoutMethod.STORE_CREDIT:
            _credit_wallet(withdrawal)
            paid(withdrawal, payout_reference=f"WALLET-{withdrawal.number}")
        elif withdrawal.method in ELECTRONIC and adapter_name(withdrawal.method):
            Withdrawal.objects.filter(pk=withdrawal.pk).update(
                payout_status=PayoutStatus.PENDING, payout_next_at=timezone.now() + payouts.QUEUE_GRACE
            )
            withdrawal.payout_status = PayoutStatus.PENDING
            payouts.schedule(withdrawal.pk)
    return withdrawal


def _credit_wallet(withdrawal: Withdrawal) -> None:
    from fenxiao.customers.models import WALLET_WITHDRAWAL
    from fenxiao.customers.services import wallet

    wallet.credit(
        withdrawal.distributor.user_id,
        withdrawal.payout,
        source_key=f"withdrawal:{withdrawal.pk}",
        note=WALLET_WITHDRAWAL % {"number": withdrawal.number},
    )


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
        _release(withdrawal, texts.WITHDRAWAL_REJECTED % {"reason": reason})
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
        return {"payout_status": outcome, "payout_next_at": None, "payout_package": ""}
    return {}


def may_mark_paid(withdrawal: Withdrawal) -> bool:
    """Whether finance may record the payout as made by hand. Not while the service may
    still pay it: a transfer it accepted (WeChat's waits for the distributor's
    confirmation) or one sent without a final answer. Paying by hand as well could pay
    twice; retrying asks the service how it ended. With its adapter gone, finance checks the
    merchant platform and records what it shows."""
    from ..payouts import adapter_name

    in_flight = withdrawal.payout_status == PayoutStatus.WAITING or not may_mark_failed(withdrawal)
    return not (in_flight and adapter_name(withdrawal.method))


def may_mark_failed(withdrawal: Withdrawal) -> bool:
    """Whether finance may record the payout as failed (releasing the hold). Not once an
    automatic transfer was attempted without a final answer: it may have gone through, and
    releasing the hold could pay twice."""
    return not (withdrawal.payout_status in RETRYABLE_PAYOUT and withdrawal.payout_attempts)


def mark_paid(withdrawal: Withdrawal, staff, *, reference: str = "") -> Withdrawal:
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        if not may_mark_paid(withdrawal):
            raise WithdrawalInvalid(
                _("打款通道的转账仍在进行中，请等待结果或先撤销转账"), code="PAYOUT_IN_FLIGHT", status=409
            )
        paid(
            withdrawal,
            payout_reference=(reference or "")[:64],
            **_closed_payout(withdrawal, PayoutStatus.SUCCEEDED),
        )
    return withdrawal


def fail(withdrawal: Withdrawal, reason: str) -> None:
    _move(
        withdrawal,
        WithdrawalStatus.FAILED,
        failure_reason=(reason or texts.PAYOUT_FAILED)[:200],
        **_closed_payout(withdrawal, PayoutStatus.FAILED),
    )
    _release(withdrawal, texts.WITHDRAWAL_FAILED % {"reason": withdrawal.failure_reason})
    notices.withdrawal_failed(
        user_id=withdrawal.distributor.user_id,
        withdrawal_id=withdrawal.pk,
        number=withdrawal.number,
        amount=withdrawal.amount,
        reason=withdrawal.failure_reason,
    )


def mark_failed(withdrawal: Withdrawal, staff, *, reason: str) -> Withdrawal:
    with transaction.atomic():
        withdrawal = get_for_update(withdrawal.pk)
        if not may_mark_failed(withdrawal):
            raise WithdrawalInvalid(
                _("自动打款结果未知，请先重试打款确认结果"), code="PAYOUT_IN_FLIGHT", status=409
            )
        fail(withdrawal, reason)
    return withdrawal
