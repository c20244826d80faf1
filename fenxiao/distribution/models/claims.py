"""掉单申诉 (missing-order claims): a distributor says a paid order should have been theirs —
the buyer came through their link but the order went to nobody or to someone else — and
staff decide, with the attribution record and the buyer's touches in front of them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.core.statemachine import StateMachine

from .distributors import Distributor
from .texts import PLAIN


class ClaimStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    APPROVED = "approved", _("已改判")
    REJECTED = "rejected", _("已驳回")


CLAIM_FLOW = StateMachine(
    ClaimStatus,
    {
        ClaimStatus.OPEN: {ClaimStatus.APPROVED, ClaimStatus.REJECTED},
        ClaimStatus.APPROVED: set(),
        ClaimStatus.REJECTED: set(),
    },
)


class OrderClaim(models.Model):
    """One distributor's claim on one paid order (one per order and distributor, ever: a
    rejected claim is not filed again)."""

    Status = ClaimStatus

    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="claims", verbose_name=_("申诉分销商")
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("订单")
    )
    reason = models.CharField(_("申诉说明"), max_length=200)
    # Who had level 1 when the claim was filed, as the claimant and staff saw it.
    previous_level1 = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("原一级分销商"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.OPEN)
    note = models.CharField(_("处理说明"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申诉时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("掉单申诉")
        verbose_name_plural = pgettext_lazy("plural", "掉单申诉")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "distributor"], name="one_claim_per_order_distributor")
        ]
        indexes = [
            # The staff queue (open, newest first) and a distributor's own claims.
            models.Index(fields=["status", "-id"], name="order_claim_queue"),
        ]

    def __str__(self):
        return gettext("掉单申诉 #%(pk)s") % {"pk": self.pk}

    @property
    def note_text(self) -> str:
        """处理说明: the default one the system writes (已改判) translated, staff's as typed."""
        return PLAIN(self.note)
