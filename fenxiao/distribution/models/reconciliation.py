"""The daily reconciliation (对账): proof that orders, commissions, ledger, balances and
payouts agree. Every run is kept (never overwritten), so a merchant can show that they
agreed every day, and a day that disagreed stays on record after a repair and a re-run."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Reconciliation(models.Model):
    day = models.DateField(_("对账日期"), db_index=True)
    ok = models.BooleanField(_("全部一致"), default=False)
    problem_count = models.PositiveIntegerField(_("不一致项"), default=0)
    # The day's money movements (fen and counts), by name: see services/reconciliation.FIGURES.
    figures = models.JSONField(_("当日资金流水"), default=dict)
    # One entry per check: {"key", "title", "ok", "checked", "problems", "more"}; each problem
    # keeps its sentence (text) and the templates it was made from (services.reconciliation).
    checks = models.JSONField(_("核对结果"), default=list)
    ran_at = models.DateTimeField(_("对账时间"))
    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发起人"),
    )
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("每日对账")
        verbose_name_plural = pgettext_lazy("plural", "每日对账")
        ordering = ["-ran_at", "-id"]

    def __str__(self):
        return gettext("%(day)s 对账") % {"day": f"{self.day:%Y-%m-%d}"}
