"""Settlement runs: one batch per run, one record per settlement-cycle day that has run.

Kept apart from commissions and the ledger because a commission points at its batch and a
ledger entry points at its commission: with the batch below both, the modules import in one
direction and need no lazy references.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .config import Cycle, SettlementMode


class SettlementBatch(models.Model):
    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", _("待审核")
        RUNNING = "running", _("结算中")
        SETTLED = "settled", _("已结算")
        CANCELLED = "cancelled", _("已作废")

    mode = models.CharField(_("方式"), max_length=10, choices=SettlementMode.choices)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices)
    cutoff = models.DateTimeField(_("结算截止"))
    commission_count = models.PositiveIntegerField(_("佣金笔数"), default=0)
    total = models.BigIntegerField(_("结算金额"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    approved_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        _("最近进度"), null=True, blank=True, help_text=_("结算中的批次长时间没有进度，视为中断，自动继续")
    )

    class Meta:
        verbose_name = _("结算批次")
        verbose_name_plural = pgettext_lazy("plural", "结算批次")
        ordering = ["-id"]

    def __str__(self):
        return gettext("结算批次 #%(pk)s") % {"pk": self.pk}


class SettlementCycleRun(models.Model):
    """A settlement cycle day that has run: the scheduled run catches up one that was missed."""

    cycle = models.CharField(_("结算周期"), max_length=10, choices=Cycle.choices)
    day = models.DateField(_("结算日"))
    batch = models.ForeignKey(
        SettlementBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("结算批次"),
    )
    ran_at = models.DateTimeField(_("执行时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("结算周期记录")
        verbose_name_plural = pgettext_lazy("plural", "结算周期记录")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["cycle", "day"], name="one_run_per_settlement_cycle")]

    def __str__(self):
        return f"{self.get_cycle_display()} {self.day}"
