"""Commission rules: per product, SKU or category (optionally for one grade), the version
each save leaves behind, and the sales-amount tiers.

These are everything the commission calculation reads besides the settings and the grade;
the settings' guard (单商品佣金上限) is checked on every save of any of them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from fenxiao.core.money import format_bp, format_fen

from .distributors import DistributorGrade


class RuleKind(models.TextChoices):
    RATE = "rate", "按比例"
    FIXED = "fixed", "固定金额（分/件）"
    # Not 0 %: a line this rule decides pays no level, no tier bonus and no team commission.
    EXCLUDE = "exclude", "不计佣金"


class CommissionRule(models.Model):
    """A product, SKU or category commission rule, optionally for one grade only."""

    name = models.CharField("规则名称", max_length=60)
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="商品",
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
        verbose_name="分类",
    )
    grade = models.ForeignKey(
        DistributorGrade,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="仅限等级",
    )
    kind = models.CharField("计算方式", max_length=10, choices=RuleKind.choices, default=RuleKind.RATE)
    level1 = models.PositiveIntegerField(
        "一级", null=True, blank=True, help_text="按比例时为基点，固定金额时为每件的分"
    )
    level2 = models.PositiveIntegerField("二级", null=True, blank=True)
    level3 = models.PositiveIntegerField("三级", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "佣金规则"
        verbose_name_plural = "佣金规则"
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
        CommissionRule, on_delete=models.CASCADE, related_name="versions", verbose_name="规则"
    )
    version = models.PositiveIntegerField("版本")
    name = models.CharField("规则名称", max_length=60)
    target = models.CharField("适用于", max_length=200, blank=True)
    grade_name = models.CharField("仅限等级", max_length=20, blank=True)
    kind = models.CharField("计算方式", max_length=10, choices=RuleKind.choices)
    level1 = models.PositiveIntegerField("一级", null=True, blank=True)
    level2 = models.PositiveIntegerField("二级", null=True, blank=True)
    level3 = models.PositiveIntegerField("三级", null=True, blank=True)
    is_active = models.BooleanField("启用")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="修改人",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "佣金规则版本"
        verbose_name_plural = "佣金规则版本"
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

    threshold = models.PositiveBigIntegerField("本月销售额满（分）", unique=True)
    bonus_bp = models.PositiveIntegerField("额外一级佣金（基点）")

    class Meta:
        verbose_name = "销售额阶梯奖励"
        verbose_name_plural = "销售额阶梯奖励"
        ordering = ["threshold"]

    def __str__(self):
        return f"销售额满 {format_fen(self.threshold)} 一级佣金 +{format_bp(self.bonus_bp)}"
