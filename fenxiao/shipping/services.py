"""Reading fee templates for checkout: the templates an order's products name, whole, in a
fixed number of queries (three, whatever the number of lines or templates; none when no
product names one), as the plain values `fees` computes with."""

from collections.abc import Iterable

from django.db.models import Prefetch

from . import fees
from .models import ChargeBy, ShippingFreeRule, ShippingRule, ShippingTemplate


def as_fee_template(template: ShippingTemplate) -> fees.Template:
    """A template with its `rules` and `free_rules` prefetched, as plain values."""
    regional: dict[str, fees.Rates] = {}
    for rule in template.rules.all():
        rates = fees.Rates(rule.first_units, rule.first_fee, rule.additional_units, rule.additional_fee)
        for code in rule.provinces:
            regional.setdefault(code, rates)  # a province listed twice: the first rule wins
    regional_free: dict[str, tuple[fees.FreeRule, ...]] = {}
    for rule in template.free_rules.all():
        for code in rule.provinces:
            regional_free[code] = (
                *regional_free.get(code, ()),
                fees.FreeRule(rule.over_amount, rule.over_units),
            )
    own_free = fees.FreeRule(template.free_over_amount, template.free_over_units)
    return fees.Template(
        key=template.pk,
        name=template.name,
        by_weight=template.charge_by == ChargeBy.WEIGHT,
        rates=fees.Rates(
            template.first_units, template.first_fee, template.additional_units, template.additional_fee
        ),
        regional=regional,
        free=(own_free,) if own_free.over_amount or own_free.over_units else (),
        regional_free=regional_free,
        undelivered=frozenset(template.undelivered_provinces or ()),
    )


def load_fee_templates(template_ids: Iterable[int | None]) -> dict[int, fees.Template]:
    ids = sorted({pk for pk in template_ids if pk})
    if not ids:
        return {}
    qs = ShippingTemplate.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("rules", queryset=ShippingRule.objects.order_by("id")),
        Prefetch("free_rules", queryset=ShippingFreeRule.objects.order_by("id")),
    )
    return {template.pk: as_fee_template(template) for template in qs}
