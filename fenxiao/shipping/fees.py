"""The shipping fee of one order to one province: pure arithmetic on plain values.

Rules, as Youzan charges them, kept here in one place:

- Lines are grouped by their template. A group's units are its pieces, or its weight in
  kilograms rounded up once for the whole group (1,001 g is 2 kg).
- A province listed in a template's region rule uses that rule's numbers; any other
  province the template's defaults. A province listed as not delivered refuses the order
  with `SHIPPING_REGION_UNDELIVERABLE`, naming the product.
- A group is free when its amount (what the buyer pays for its lines, after discounts)
  reaches a free-shipping amount, or its units reach a free count/weight (`>=`: exactly at
  the threshold is free). Free rules listed for the province replace the template's own.
- Several groups in one parcel: the first fee is charged once, by the group with the
  largest first fee, which pays first fee + its additional steps; every other group pays
  additional steps only, for all its units. (Youzan: 首费取最大，续费各自累加.) When
  several groups share the largest first fee, the cheaper total for the buyer wins.
- Lines without a template use the shop default (`OrderSettings`): one flat fee per order,
  free over the shop threshold. As a group it is "first fee = the flat fee, no additional
  fee", so an order of only such lines costs exactly what it did before templates.

Fees are integer fen; steps are rounded up (a partial step is a whole step).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from . import regions
from .errors import RegionUndeliverable

GRAMS_PER_KG = 1000


@dataclass(frozen=True)
class Rates:
    first_units: int
    first_fee: int
    additional_units: int
    additional_fee: int

    def __post_init__(self):
        if self.first_units < 1 or self.additional_units < 1:
            raise ValueError("first and additional units must be at least 1")

    def leading(self, units: int) -> int:
        """First fee plus the additional steps beyond the first units."""
        beyond = max(0, units - self.first_units)
        return self.first_fee + _steps(beyond, self.additional_units) * self.additional_fee

    def following(self, units: int) -> int:
        """Additional steps only, for every unit (a group that is not charged the first fee)."""
        return _steps(units, self.additional_units) * self.additional_fee


@dataclass(frozen=True)
class FreeRule:
    over_amount: int = 0  # fen; 0: not by amount
    over_units: int = 0  # pieces or kg; 0: not by units

    def met(self, amount: int, units: int) -> bool:
        return bool(
            (self.over_amount and amount >= self.over_amount)
            or (self.over_units and units >= self.over_units)
        )


@dataclass(frozen=True)
class Template:
    key: object  # the template's id; None for the shop default
    name: str
    rates: Rates
    by_weight: bool = False
    regional: dict[str, Rates] = field(default_factory=dict)  # province code -> rates
    free: tuple[FreeRule, ...] = ()
    regional_free: dict[str, tuple[FreeRule, ...]] = field(default_factory=dict)
    undelivered: frozenset[str] = frozenset()

    def __hash__(self):
        return hash(self.key)

    def rates_for(self, province: str | None) -> Rates:
        return self.regional.get(province, self.rates) if province else self.rates

    def free_rules_for(self, province: str | None) -> tuple[FreeRule, ...]:
        if province and province in self.regional_free:
            return self.regional_free[province]
        return self.free

    def units(self, quantity: int, weight_grams: int) -> int:
        return _steps(weight_grams, GRAMS_PER_KG) if self.by_weight else quantity


def shop_default(flat_fee: int, free_over: int) -> Template:
    """The shop-wide fee of `OrderSettings` as a template (see the module docstring)."""
    return Template(
        key=None,
        name="默认运费",
        rates=Rates(first_units=1, first_fee=flat_fee, additional_units=1, additional_fee=0),
        free=(FreeRule(over_amount=free_over),) if free_over else (),
    )


@dataclass(frozen=True)
class Line:
    template: Template
    quantity: int
    weight_grams: int  # of the whole line
    amount: int  # what the buyer pays for the line, in fen
    name: str = ""  # the product, for the undeliverable message


@dataclass
class GroupFee:
    template: Template
    units: int
    amount: int
    free: bool
    fee: int = 0
    leading: bool = False


@dataclass
class Fee:
    amount: int
    groups: list[GroupFee]


def _steps(units: int, step: int) -> int:
    return -(-units // step) if units > 0 else 0


def check_deliverable(province: str | None, lines: Iterable[Line]) -> None:
    if not province:
        return
    refused = list(dict.fromkeys(line.name for line in lines if province in line.template.undelivered))
    if refused:
        raise RegionUndeliverable(
            _("%(names)s不支持配送至%(province)s，请更换收货地址或移除该商品")
            % {"names": "、".join(refused), "province": regions.province_name(province)},
            province=province,
        )


def compute(province: str | None, lines: Iterable[Line]) -> Fee:
    """The fee for `lines` sent to `province` (a province code; None before an address is
    chosen: the defaults apply and nothing is refused)."""
    lines = list(lines)
    check_deliverable(province, lines)
    groups: dict[object, GroupFee] = {}
    for line in lines:
        template = line.template
        group = groups.get(template.key)
        if group is None:
            group = groups[template.key] = GroupFee(template, 0, 0, False)
        group.amount += line.amount
        group.units += line.quantity  # weights are summed apart and rounded once, below
    weights: dict[object, int] = {}
    for line in lines:
        weights[line.template.key] = weights.get(line.template.key, 0) + line.weight_grams
    for key, group in groups.items():
        group.units = group.template.units(group.units, weights[key])
        group.free = any(
            rule.met(group.amount, group.units) for rule in group.template.free_rules_for(province)
        )
    charged = [g for g in groups.values() if not g.free]
    if not charged:
        return Fee(0, list(groups.values()))
    following = {id(g): g.template.rates_for(province).following(g.units) for g in charged}
    everyone_following = sum(following.values())

    def total_if_leading(g: GroupFee) -> int:
        return everyone_following - following[id(g)] + g.template.rates_for(province).leading(g.units)

    top = max(g.template.rates_for(province).first_fee for g in charged)
    leader = min(
        (g for g in charged if g.template.rates_for(province).first_fee == top),
        key=total_if_leading,
    )
    for g in charged:
        g.leading = g is leader
        g.fee = g.template.rates_for(province).leading(g.units) if g.leading else following[id(g)]
    return Fee(sum(g.fee for g in charged), list(groups.values()))
