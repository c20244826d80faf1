"""Shipping-fee templates (运费模板): how much a parcel costs to a province.

A template charges by piece or by weight: the first units at one price, every further
step of units at another (首件/首重 + 续件/续重). Region rules give listed provinces their
own numbers; free-shipping rules waive the fee over an amount or a count/weight; some
provinces may not be delivered at all. Weights are whole kilograms here (what merchants
type); a line's weight in grams is rounded up to the kilogram when a fee is computed.

Provinces are kept as lists of codes (`fenxiao.shipping.regions`): a template is read
whole at checkout, and a list on the row is one read instead of a join per province.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from . import regions

# Fits a 32-bit column with room to add several groups (PostgreSQL integer).
MAX_FEE = 100_000_00  # ¥100,000.00
MAX_UNITS = 100_000


class ChargeBy(models.TextChoices):
    PIECE = "piece", _("按件数")
    WEIGHT = "weight", _("按重量")


def _unit_bounds(prefix: str, fields: tuple[str, ...]) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{name}__lte": MAX_UNITS if "units" in name else MAX_FEE}),
            name=f"{prefix}_{name}_bounded",
        )
        for name in fields
    ]


def validate_provinces(codes) -> None:
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ValidationError(gettext("地区格式不正确"))
    unknown = [c for c in codes if regions.get(c) is None or len(c) != 2]
    if unknown:
        raise ValidationError(gettext("未知的省份代码：%(names)s") % {"names": "、".join(unknown)})


def province_names(codes) -> str:
    return gettext("、").join(regions.province_name(c) for c in codes or ())


class ShippingTemplate(models.Model):
    name = models.CharField(_("模板名称"), max_length=40, unique=True)
    charge_by = models.CharField(
        _("计费方式"), max_length=10, choices=ChargeBy.choices, default=ChargeBy.PIECE
    )
    first_units = models.PositiveIntegerField(
        _("首件/首重"), default=1, help_text=_("按件数计费为件数，按重量计费为千克数")
    )
    first_fee = models.PositiveIntegerField(_("首费"), default=0)
    additional_units = models.PositiveIntegerField(_("续件/续重"), default=1)
    additional_fee = models.PositiveIntegerField(_("续费"), default=0)
    free_over_amount = models.PositiveIntegerField(
        _("满额包邮"), default=0, help_text=_("同一模板的商品实付金额达到此数免运费；0 表示不设")
    )
    free_over_units = models.PositiveIntegerField(
        _("满件/满重包邮"), default=0, help_text=_("同一模板的商品件数（或千克数）达到此数免运费；0 表示不设")
    )
    undelivered_provinces = models.JSONField(
        _("不配送地区"), default=list, blank=True, validators=[validate_provinces]
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("运费模板")
        verbose_name_plural = pgettext_lazy("plural", "运费模板")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(charge_by__in=ChargeBy.values), name="shipping_template_charge_by"
            ),
            models.CheckConstraint(
                condition=Q(first_units__gte=1), name="shipping_template_first_units_positive"
            ),
            models.CheckConstraint(
                condition=Q(additional_units__gte=1), name="shipping_template_additional_units_positive"
            ),
            *_unit_bounds(
                "shipping_template",
                ("first_units", "first_fee", "additional_units", "additional_fee", "free_over_units"),
            ),
            models.CheckConstraint(
                condition=Q(free_over_amount__lte=1_000_000_000),
                name="shipping_template_free_over_amount_bounded",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def unit_label(self) -> str:
        return gettext("件") if self.charge_by == ChargeBy.PIECE else "kg"


class ShippingRule(models.Model):
    """The template's numbers for the listed provinces instead of its defaults."""

    template = models.ForeignKey(
        ShippingTemplate, on_delete=models.CASCADE, related_name="rules", verbose_name=_("运费模板")
    )
    provinces = models.JSONField(_("配送地区"), default=list, validators=[validate_provinces])
    first_units = models.PositiveIntegerField(_("首件/首重"), default=1)
    first_fee = models.PositiveIntegerField(_("首费"), default=0)
    additional_units = models.PositiveIntegerField(_("续件/续重"), default=1)
    additional_fee = models.PositiveIntegerField(_("续费"), default=0)

    class Meta:
        verbose_name = _("指定地区运费")
        verbose_name_plural = pgettext_lazy("plural", "指定地区运费")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_units__gte=1), name="shipping_rule_first_units_positive"
            ),
            models.CheckConstraint(
                condition=Q(additional_units__gte=1), name="shipping_rule_additional_units_positive"
            ),
            *_unit_bounds(
                "shipping_rule", ("first_units", "first_fee", "additional_units", "additional_fee")
            ),
        ]

    def __str__(self):
        return province_names(self.provinces)


class ShippingFreeRule(models.Model):
    """包邮 for the listed provinces: over an amount, or over a count/weight (either is
    enough). A province with rules here uses them instead of the template's own."""

    template = models.ForeignKey(
        ShippingTemplate, on_delete=models.CASCADE, related_name="free_rules", verbose_name=_("运费模板")
    )
    provinces = models.JSONField(_("包邮地区"), default=list, validators=[validate_provinces])
    over_amount = models.PositiveIntegerField(_("满额包邮"), default=0, help_text=_("0 表示不按金额"))
    over_units = models.PositiveIntegerField(
        _("满件/满重包邮"), default=0, help_text=_("0 表示不按件数/重量")
    )

    class Meta:
        verbose_name = _("指定地区包邮")
        verbose_name_plural = pgettext_lazy("plural", "指定地区包邮")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(over_amount__gt=0) | Q(over_units__gt=0), name="shipping_free_rule_has_condition"
            ),
            models.CheckConstraint(
                condition=Q(over_amount__lte=1_000_000_000), name="shipping_free_rule_over_amount_bounded"
            ),
            models.CheckConstraint(
                condition=Q(over_units__lte=MAX_UNITS), name="shipping_free_rule_over_units_bounded"
            ),
        ]

    def __str__(self):
        return province_names(self.provinces)
