"""Commission rules: per product, SKU or category (optionally for one grade), the version
each save leaves behind, and the sales-amount tiers.

These are everything the commission calculation reads besides the settings and the grade;
the settings' guard (单商品佣金上限) is checked on every save of any of them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.core.money import format_bp, format_fen

from .distributors import DistributorGrade


class RuleKind(models.TextChoices):
    RATE = "rate", _("按比例")
    FIXED = "fixed", _("固定金额（元/件）")
    # Not 0 %: a line this rule decides pays no level, no tier bonus and no team commission.
    EXCLUDE = "exclude", _("不计佣金")


class CommissionRule(models.Model):
    """A product, SKU or category commission rule, optionally for one grade only."""

    name = models.CharField(_("规则名称"), max_length=60)
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("商品"),
    )
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="SKU"
    )
    category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("分类"),
    )
    grade = models.ForeignKey(
        DistributorGrade,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("仅限等级"),
    )
    kind = models.CharField(_("计算方式"), max_length=10, choices=RuleKind.choices, default=RuleKind.RATE)
    level1 = models.PositiveIntegerField(
        _("一级"), null=True, blank=True, help_text=_("按比例时为基点，固定金额时为每件的分")
    )
    level2 = models.PositiveIntegerField(_("二级"), null=True, blank=True)
    level3 = models.PositiveIntegerField(_("三级"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("佣金规则")
        verbose_name_plural = pgettext_lazy("plural", "佣金规则")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(product__isnull=False, sku__isnull=True, category__isnull=True)
                    | Q(product__isnull=True, sku__isnull=False, category__isnull=True)
                    | Q(product__isnull=True, sku__isnull=True, category__isnull=False)
                ),
                name="commission_rule_one_target",
            ),
        ]

    def __str__(self):
        return self.name

    def value(self, level: int) -> int | None:
        return [self.level1, self.level2, self.level3][level - 1]

    @property
    def excludes(self) -> bool:
        return self.kind == RuleKind.EXCLUDE


class CommissionRuleVersion(models.Model):
    """A rule as it was at one version: written on every save, never changed, so a
    commission explains itself with the name and values it was computed with."""

    rule = models.ForeignKey(
        CommissionRule, on_delete=models.CASCADE, related_name="versions", verbose_name=_("规则")
    )
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("规则名称"), max_length=60)
    target = models.CharField(_("适用于"), max_length=200, blank=True)
    grade_name = models.CharField(_("仅限等级"), max_length=20, blank=True)
    kind = models.CharField(_("计算方式"), max_length=10, choices=RuleKind.choices)
    level1 = models.PositiveIntegerField(_("一级"), null=True, blank=True)
    level2 = models.PositiveIntegerField(_("二级"), null=True, blank=True)
    level3 = models.PositiveIntegerField(_("三级"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佣金规则版本")
        verbose_name_plural = pgettext_lazy("plural", "佣金规则版本")
        ordering = ["rule", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="one_row_per_rule_version"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    def value(self, level: int) -> int | None:
        return [self.level1, self.level2, self.level3][level - 1]


class SalesTier(models.Model):
    """Sales-amount bonus: level-1 paid sales this month ≥ threshold → + bonus bp."""

    threshold = models.PositiveBigIntegerField(_("本月销售额满（分）"), unique=True)
    bonus_bp = models.PositiveIntegerField(_("额外一级佣金（基点）"))

    class Meta:
        verbose_name = _("销售额阶梯奖励")
        verbose_name_plural = pgettext_lazy("plural", "销售额阶梯奖励")
        ordering = ["threshold"]

    def __str__(self):
        return gettext("销售额满 %(threshold)s 一级佣金 +%(bonus)s") % {
            "threshold": format_fen(self.threshold),
            "bonus": format_bp(self.bonus_bp),
        }
