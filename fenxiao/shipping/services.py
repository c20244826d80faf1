"""Reading fee templates for checkout: the templates an order's products name, whole, in a
fixed number of queries (three, whatever the number of lines or templates; none when no
product names one), as the plain values `fees` computes with. And copying a template: the
copy is whole (its region rows too) and gets a name no other template has, even when two
copies are made at once."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from . import fees
from .errors import TemplateCopyNameTaken
from .models import ChargeBy, ShippingFreeRule, ShippingRule, ShippingTemplate

NAME_MAX = ShippingTemplate._meta.get_field("name").max_length


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


COPY_ATTEMPTS = 20


def copy_template(template: ShippingTemplate, *, suffix: str) -> ShippingTemplate:
    """A new template with `template`'s fees, 包邮 conditions, 不配送地区 and region rows,
    named "<name> <suffix>" (then "… 2", "… 3" while a name is taken, cut to fit the column),
    for a merchant making a variant (大件, 偏远加价) without re-ticking every province. Used
    by no product until the merchant moves products onto it."""
    for attempt in range(1, COPY_ATTEMPTS + 1):
        tail = f" {suffix}" if attempt == 1 else f" {suffix}{attempt}"
        name = template.name[: NAME_MAX - len(tail)] + tail
        try:
            with transaction.atomic():
                return _copy_as(template, name)
        except IntegrityError:
            # Taken, whether by a template already there or by a copy made at the same moment:
            # the unique name decides, not a look beforehand. Any other refusal is no name's.
            if not ShippingTemplate.objects.filter(name=name).exists():
                raise
            continue
    raise TemplateCopyNameTaken()


def _copy_as(template: ShippingTemplate, name: str) -> ShippingTemplate:
    copy = ShippingTemplate.objects.create(
        name=name,
        charge_by=template.charge_by,
        first_units=template.first_units,
        first_fee=template.first_fee,
        additional_units=template.additional_units,
        additional_fee=template.additional_fee,
        free_over_amount=template.free_over_amount,
        free_over_units=template.free_over_units,
        undelivered_provinces=list(template.undelivered_provinces or ()),
    )
    ShippingRule.objects.bulk_create(
        ShippingRule(
            template=copy,
            provinces=list(rule.provinces),
            first_units=rule.first_units,
            first_fee=rule.first_fee,
            additional_units=rule.additional_units,
            additional_fee=rule.additional_fee,
        )
        for rule in template.rules.order_by("id")
    )
    ShippingFreeRule.objects.bulk_create(
        ShippingFreeRule(
            template=copy,
            provinces=list(rule.provinces),
            over_amount=rule.over_amount,
            over_units=rule.over_units,
        )
        for rule in template.free_rules.order_by("id")
    )
    return copy
