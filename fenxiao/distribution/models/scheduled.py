"""Changes staff schedule to take effect at a set time (生效时间): the distribution
settings, or one commission rule. Until then nothing changes; at that time the sweeper
applies them through the same services as an immediate save (validated, versioned), so an
order paid before uses the old rates and one paid after the new, and past commission is
never rewritten."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fenxiao.core.statemachine import StateMachine

from .rules import CommissionRule


class ScheduledChangeStatus(models.TextChoices):
    PENDING = "pending", _("待生效")
    APPLIED = "applied", _("已生效")
    FAILED = "failed", _("未能生效")
    CANCELLED = "cancelled", _("已撤销")


SCHEDULED_CHANGE_FLOW = StateMachine(
    ScheduledChangeStatus,
    {
        ScheduledChangeStatus.PENDING: {
            ScheduledChangeStatus.APPLIED,
            ScheduledChangeStatus.FAILED,
            ScheduledChangeStatus.CANCELLED,
        },
        ScheduledChangeStatus.APPLIED: set(),
        ScheduledChangeStatus.FAILED: set(),
        ScheduledChangeStatus.CANCELLED: set(),
    },
)


class ScheduledChange(models.Model):
    Status = ScheduledChangeStatus

    class Target(models.TextChoices):
        SETTINGS = "settings", _("分销设置")
        RULE = "rule", _("佣金规则")

    target = models.CharField(_("变更对象"), max_length=10, choices=Target.choices)
    rule = models.ForeignKey(
        CommissionRule,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scheduled_changes",
        verbose_name=_("佣金规则"),
    )
    # Field name → new value, as the settings or the rule store it (rates in basis points).
    changes = models.JSONField(_("变更内容"))
    effective_at = models.DateTimeField(_("生效时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ScheduledChangeStatus.choices, default=ScheduledChangeStatus.PENDING
    )
    result = models.CharField(_("结果"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    applied_at = models.DateTimeField(_("实际生效时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("定时生效的变更")
        verbose_name_plural = pgettext_lazy("plural", "定时生效的变更")
        ordering = ["-effective_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target="settings", rule__isnull=True)
                | models.Q(target="rule", rule__isnull=False),
                name="scheduled_change_target",
            ),
        ]
        # The sweeper's read: what is pending and due, oldest first.
        indexes = [models.Index(fields=["status", "effective_at"], name="scheduled_change_due")]

    def __str__(self):
        return f"{self.get_target_display()} @ {self.effective_at:%Y-%m-%d %H:%M}"
