"""A distributor's money: the append-only ledger, withdrawals and their electronic payouts.

The balance is the sum of the ledger entries; a withdrawal holds its amount with one entry
and, if rejected or failed, releases it with another. `WITHDRAWAL_FLOW` (the withdrawal
status) and `PayoutStatus` (the transfer's own progress) stay next to `Withdrawal`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fenxiao.core.money import format_fen
from fenxiao.core.statemachine import StateMachine

from .commissions import Commission
from .config import PayoutMethod
from .distributors import Distributor
from .texts import FAILURES, LEDGER_NOTES, PLAIN


class LedgerKind(models.TextChoices):
    COMMISSION = "commission", _("佣金结算")
    CLAWBACK = "clawback", _("退款追回")
    WITHDRAWAL_HOLD = "withdrawal_hold", _("提现冻结")
    WITHDRAWAL_RELEASE = "withdrawal_release", _("提现退回")
    BAN = "ban", _("封禁处理")


class LedgerEntry(models.Model):
    """Append-only: a distributor's balance is the sum of their entries, nothing else."""

    # Indexed with the id (see Meta), which serves both "their entries" and their pages.
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="ledger", verbose_name=_("分销商"), db_index=False
    )
    kind = models.CharField(_("类型"), max_length=20, choices=LedgerKind.choices)
    amount = models.BigIntegerField(_("金额"), help_text=_("正数入账，负数出账"))
    # Unique through a constraint in Meta: it is only ever matched whole (settlement's
    # `ON CONFLICT (source_key)`), so no second, pattern-matching index is written per entry.
    source_key = models.CharField(_("来源"), max_length=60)
    # Not indexed: an entry is only ever read towards its commission, never found by it
    # (settlement finds a credit by its source key), and each index is one more write per
    # commission settled.
    commission = models.ForeignKey(
        Commission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        db_index=False,
    )
    # Indexed only where set (see Meta): most entries are commission credits.
    withdrawal = models.ForeignKey(
        "Withdrawal",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        db_index=False,
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("账户流水")
        verbose_name_plural = pgettext_lazy("plural", "账户流水")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["source_key"], name="ledger_source_key_unique")]
        indexes = [
            # 资金明细 pages newest first by key, and the balance sums a distributor's
            # amounts: on PostgreSQL both read the index alone (the amount is carried in it),
            # however long the ledger, instead of every entry's row. It replaces the plain
            # distributor index, so an entry costs no extra index write.
            models.Index(fields=["distributor", "-id"], include=["amount"], name="ledger_distributor_newest"),
            models.Index(
                fields=["withdrawal"], condition=Q(withdrawal__isnull=False), name="ledger_withdrawal_entries"
            ),
            # Reports read entries by time range. Entries are only ever appended, so on
            # PostgreSQL this is a BRIN index (migration 0015): a few pages that summarise
            # each range of the table, instead of one more B-tree entry written per entry.
            models.Index(fields=["created_at"], name="ledger_created_at"),
        ]

    def __str__(self):
        sign = "+" if self.amount > 0 else ""
        return f"{self.get_kind_display()} {sign}{format_fen(self.amount)}"

    @property
    def note_text(self) -> str:
        """The memo in the active language: the system writes every memo from a template in
        `texts` (the row keeps the Chinese); what staff typed inside one reads as typed."""
        return LEDGER_NOTES(self.note)


class WithdrawalStatus(models.TextChoices):
    REQUESTED = "requested", _("待审核")
    APPROVED = "approved", _("已审核，打款中")
    PAID = "paid", _("已打款")
    REJECTED = "rejected", _("已拒绝")
    FAILED = "failed", _("打款失败")


WITHDRAWAL_FLOW = StateMachine(
    WithdrawalStatus,
    {
        WithdrawalStatus.REQUESTED: {WithdrawalStatus.APPROVED, WithdrawalStatus.REJECTED},
        WithdrawalStatus.APPROVED: {WithdrawalStatus.PAID, WithdrawalStatus.FAILED},
        WithdrawalStatus.PAID: set(),
        WithdrawalStatus.REJECTED: set(),
        WithdrawalStatus.FAILED: set(),
    },
)


class PayoutStatus(models.TextChoices):
    """The electronic transfer of an approved withdrawal (WeChat / Alipay)."""

    NONE = "", "-"
    PENDING = "pending", _("待打款")
    PROCESSING = "processing", _("打款中")
    # Accepted by the service, outcome to come: the bank is still moving it, or (WeChat
    # 商家转账) the distributor has to confirm receipt in WeChat first.
    WAITING = "waiting", _("待到账")
    SUCCEEDED = "succeeded", _("已到账")
    FAILED = "failed", _("打款失败")


# A transfer in these states may be re-driven by staff or the sweeper: the payout adapter
# is idempotent on the withdrawal number, so a re-drive never pays twice (a waiting one is
# asked for its outcome).
RETRYABLE_PAYOUT = (PayoutStatus.PENDING, PayoutStatus.PROCESSING, PayoutStatus.WAITING)


class Withdrawal(models.Model):
    Status = WithdrawalStatus

    number = models.CharField(_("提现单号"), max_length=32, unique=True)
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="withdrawals", verbose_name=_("分销商")
    )
    amount = models.PositiveIntegerField(_("提现金额"))
    fee = models.PositiveIntegerField(_("手续费"))
    payout = models.PositiveIntegerField(_("实际到账"))
    method = models.CharField(_("提现方式"), max_length=20, choices=PayoutMethod.choices)
    account = models.JSONField(_("收款账户"), default=dict, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=WithdrawalStatus.choices,
        default=WithdrawalStatus.REQUESTED,
        db_index=True,
    )
    reject_reason = models.CharField(_("拒绝原因"), max_length=200, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    payout_reference = models.CharField(_("打款凭证号"), max_length=64, blank=True)
    payout_status = models.CharField(
        _("打款进度"), max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.NONE, blank=True
    )
    payout_attempts = models.PositiveIntegerField(_("打款尝试次数"), default=0)
    # Pending: when the sweeper may (re)start the transfer. Processing: the claim's deadline,
    # after which the attempt is presumed dead (worker killed) and the transfer re-driven.
    # Waiting: when the service is next asked for the outcome.
    payout_next_at = models.DateTimeField(_("下次打款尝试"), null=True, blank=True, db_index=True)
    payout_last_error = models.CharField(_("最近一次打款错误"), max_length=300, blank=True)
    # WeChat 商家转账's package_info while the distributor has yet to confirm receipt.
    payout_package = models.CharField(_("收款确认参数"), max_length=512, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    paid_at = models.DateTimeField(_("打款时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提现")
        verbose_name_plural = pgettext_lazy("plural", "提现")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(payout=F("amount") - F("fee")), name="withdrawal_payout_is_amount_less_fee"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive"),
        ]

    def __str__(self):
        return self.number

    @property
    def failure_reason_text(self) -> str:
        """Why the payout failed, in the active language: the payout services' refusals
        and the system's default through the catalogs; what staff typed, or the far side's
        own words inside a refusal, as written."""
        return FAILURES(self.failure_reason)

    @property
    def payout_last_error_text(self) -> str:
        """The transfer's last problem in the active language where the system wrote it
        (未配置自动打款通道…, 打款超时…); an exception's text as it was."""
        return PLAIN(self.payout_last_error)


class SandboxPayout(models.Model):
    """The sandbox payout service's own records (stands in for WeChat / Alipay transfers)."""

    out_biz_no = models.CharField(max_length=40, unique=True)
    channel = models.CharField(max_length=20)
    amount = models.PositiveIntegerField()
    reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("沙箱打款")
        verbose_name_plural = pgettext_lazy("plural", "沙箱打款")

    def __str__(self):
        return self.out_biz_no
