"""Abuse guards (风控): a paid order whose buyer looks like its distributor under another
account, whose chain is one person recruiting themself, or whose buyer refunds most of
what they buy is flagged for staff's review, and the commission it would pay that
distributor is held (not settled) until staff clear it or void it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.core.statemachine import StateMachine

from .distributors import Distributor
from .texts import EVIDENCE, PLAIN


class RiskSignal(models.TextChoices):
    # The order is delivered to the distributor's own phone number, or to a phone from
    # their address book.
    SAME_PHONE = "same_phone", _("同一手机号")
    # The delivery address is one in the distributor's own address book.
    SAME_ADDRESS = "same_address", _("同一收货地址")
    # The buyer and the distributor signed in on the same device (browser or app install).
    SAME_DEVICE = "same_device", _("同一设备")
    # The buyer's own distributor account has been paid to the distributor's payout account.
    SAME_PAYOUT = "same_payout", _("同一收款账户")
    # Two distributors of the order's chain withdraw to the same payout account: one person
    # recruited their own second account to earn on both levels.
    CIRCULAR = "circular", _("循环招募（上下级疑似同一人）")
    # The buyer had most of their recent orders refunded at their own request.
    REFUND_ABUSE = "refund_abuse", _("频繁退款")
    # Staff held it by hand (from 佣金记录 or a settlement batch under review).
    MANUAL = "manual", _("人工暂扣")


class RiskReviewStatus(models.TextChoices):
    OPEN = "open", _("待审核")
    CLEARED = "cleared", _("已放行")
    VOIDED = "voided", _("已作废佣金")
    # Nothing left to decide: a refund, a ban's void or a 改判 cancelled all it held.
    CLOSED = "closed", _("已失效")


RISK_REVIEW_FLOW = StateMachine(
    RiskReviewStatus,
    {
        RiskReviewStatus.OPEN: {RiskReviewStatus.CLEARED, RiskReviewStatus.VOIDED, RiskReviewStatus.CLOSED},
        # Held again by hand (人工暂扣) after it was decided: the same case, reopened.
        RiskReviewStatus.CLEARED: {RiskReviewStatus.OPEN},
        RiskReviewStatus.VOIDED: {RiskReviewStatus.OPEN},
        RiskReviewStatus.CLOSED: {RiskReviewStatus.OPEN},
    },
)


class RiskReview(models.Model):
    """One distributor's commission on one paid order, held for review, and why."""

    Status = RiskReviewStatus

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("订单")
    )
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="risk_reviews", verbose_name=_("分销商")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("买家")
    )
    # The signals that fired, comma-separated RiskSignal values (filtered with `contains`,
    # the same on SQLite and PostgreSQL).
    signals = models.CharField(_("风险类型"), max_length=120)
    evidence = models.JSONField(_("依据"), default=list)
    held_amount = models.PositiveIntegerField(_("暂扣佣金"))
    status = models.CharField(
        _("状态"), max_length=10, choices=RiskReviewStatus.choices, default=RiskReviewStatus.OPEN
    )
    note = models.CharField(_("审核说明"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("风控审核")
        verbose_name_plural = pgettext_lazy("plural", "风控审核")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "distributor"], name="one_risk_review_per_order_distributor"
            )
        ]
        indexes = [
            # The review queue: what is open, newest first.
            models.Index(fields=["status", "-id"], name="risk_review_queue"),
        ]

    def __str__(self):
        return gettext("风控审核 #%(pk)s") % {"pk": self.pk}

    @property
    def evidence_texts(self) -> list[str]:
        """依据 in the active language: each item is a sentence the guards (or a staff hold,
        with the reason typed inside it) wrote from `texts`; the row keeps the Chinese."""
        return [EVIDENCE(text) for text in self.evidence if isinstance(text, str)]

    @property
    def note_text(self) -> str:
        """审核说明: what the reviewer typed as typed, the system's closing note translated."""
        return PLAIN(self.note)

    @property
    def signal_values(self) -> list[str]:
        return [value for value in self.signals.split(",") if value]

    @property
    def signal_labels(self) -> list[str]:
        names = dict(RiskSignal.choices)
        return [str(names.get(value, value)) for value in self.signal_values]


class RiskTrust(models.Model):
    """信任名单: staff cleared a buyer and a distributor who share a phone, an address, a
    device or a payout account (family, a shop's own staff) and trust the pair: their later
    orders are not held for those signals. Circular recruiting and refund abuse still are."""

    distributor = models.ForeignKey(
        Distributor, on_delete=models.CASCADE, related_name="+", verbose_name=_("分销商")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("买家")
    )
    review = models.ForeignKey(
        RiskReview,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("来源审核"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("信任时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("风控信任名单")
        verbose_name_plural = pgettext_lazy("plural", "风控信任名单")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "distributor"], name="one_risk_trust_per_pair")
        ]

    def __str__(self):
        return gettext("信任 #%(pk)s") % {"pk": self.pk}
