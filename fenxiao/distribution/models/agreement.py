"""分销商协议: every version of the terms a distributor agrees to, kept as written.

The text being edited lives on the settings record (`DistributionSettings.agreement_text`,
so it is saved, scheduled and logged like every other setting); each saved change of it is
one row here, numbered 1, 2, 3 …, and a distributor keeps the row they agreed to. A version
is never edited or deleted: it is what someone agreed to. Imports no other model module.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class DistributorAgreement(models.Model):
    version = models.PositiveIntegerField(_("版本"), unique=True)
    text = models.TextField(_("协议内容"))
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发布人"),
    )

    class Meta:
        verbose_name = _("分销商协议")
        verbose_name_plural = pgettext_lazy("plural", "分销商协议")
        ordering = ["-version"]

    def __str__(self):
        return gettext("第 %(version)s 版") % {"version": self.version}
