"""The log of quick-setup applications: who applied which template when, and every setting
it changed, kept or skipped. The last value a template set for a setting is read back from
here, so a later template may change it again while a merchant's own edit is a conflict."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SetupRecord(models.Model):
    template = models.CharField(_("模板"), max_length=20)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    forced = models.BooleanField(_("覆盖商家修改"), default=False)
    # [{"key", "label", "old", "new", "status"}] — every row of the plan as it was applied.
    changes = models.JSONField(_("变更内容"), default=list)
    applied_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("快速开店记录")
        verbose_name_plural = pgettext_lazy("plural", "快速开店记录")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.template} {self.applied_at:%Y-%m-%d %H:%M}"

    @property
    def changed_count(self) -> int:
        return sum(1 for row in self.changes if row.get("status") in ("change", "create", "forced"))
