"""The fee arithmetic at its edges, and its invariants for any basket."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fenxiao.shipping import regions
from fenxiao.shipping.errors import RegionUndeliverable
from fenxiao.shipping.fees import FreeRule, Line, Rates, Template, compute, shop_default

GUANGDONG, XINJIANG, HONG_KONG = "44", regions.XINJIANG, regions.HONG_KONG

# 普通快递: 1 piece ¥10, every further 2 pieces ¥5.
BY_PIECE = Template(key=1, name="普通快递", rates=Rates(1, 1000, 2, 500))
# 大件: first 2 kg ¥20, every further kg ¥8; 新疆 first 1 kg ¥30 + ¥15/kg; 香港 not delivered.
BY_WEIGHT = Template(
    key=2,
    name="大件",
    by_weight=True,
    rates=Rates(2, 2000, 1, 800),
    regional={XINJIANG: Rates(1, 3000, 1, 1500)},
    undelivered=frozenset({HONG_KONG}),
)


def fee(template, quantity=1, grams=0, amount=10000, province=GUANGDONG, name="商品"):
    return compute(province, [Line(template, quantity, grams, amount, name)]).amount


def test_first_unit_costs_the_first_fee():
    assert fee(BY_PIECE, 1) == 1000


def test_additional_steps_round_up_a_partial_step():
    assert fee(BY_PIECE, 2) == 1500  # one more piece is a whole step of 2
    assert fee(BY_PIECE, 3) == 1500  # exactly one step
    assert fee(BY_PIECE, 4) == 2000
    assert fee(BY_PIECE, 5) == 2000


def test_weight_rounds_grams_up_to_the_kilogram():
    assert fee(BY_WEIGHT, grams=0) == 2000
    assert fee(BY_WEIGHT, grams=2000) == 2000  # exactly the first weight
    assert fee(BY_WEIGHT, grams=2001) == 2800  # 1 g over is a whole kilogram
    assert fee(BY_WEIGHT, grams=3000) == 2800
    assert fee(BY_WEIGHT, grams=3001) == 3600


def test_weight_is_rounded_once_for_the_group_not_per_line():
    lines = [Line(BY_WEIGHT, 1, 1100, 100, "a"), Line(BY_WEIGHT, 1, 1100, 100, "b")]
    assert compute(GUANGDONG, lines).amount == 2800  # 2.2 kg → 3 kg, not 2 kg + 2 kg


def test_a_listed_province_uses_its_own_numbers():
    assert fee(BY_WEIGHT, grams=2500, province=XINJIANG) == 3000 + 2 * 1500
    assert fee(BY_WEIGHT, grams=2500, province=None) == 2800  # no address yet: the defaults


def test_free_over_an_amount_is_free_exactly_at_the_threshold():
    template = Template(
        key=3, name="满99包邮", rates=Rates(1, 1000, 1, 0), free=(FreeRule(over_amount=9900),)
    )
    assert fee(template, amount=9899) == 1000
    assert fee(template, amount=9900) == 0


def test_free_over_a_count_or_weight_is_free_exactly_at_the_threshold():
    by_count = Template(key=3, name="满3件包邮", rates=Rates(1, 1000, 1, 100), free=(FreeRule(over_units=3),))
    assert fee(by_count, 2) == 1100
    assert fee(by_count, 3) == 0
    by_weight = Template(
        key=4, name="满5kg包邮", by_weight=True, rates=Rates(1, 1000, 1, 100), free=(FreeRule(over_units=5),)
    )
    assert fee(by_weight, grams=4001) == 0  # 4.001 kg counts as 5 kg
    assert fee(by_weight, grams=4000) == 1300


def test_regional_free_rules_replace_the_template_ones():
    template = Template(
        key=5,
        name="包邮除新疆",
        rates=Rates(1, 1000, 1, 0),
        free=(FreeRule(over_amount=100),),
        regional_free={XINJIANG: (FreeRule(over_amount=50000),)},
    )
    assert fee(template, amount=100) == 0
    assert fee(template, amount=100, province=XINJIANG) == 1000
    assert fee(template, amount=50000, province=XINJIANG) == 0


def test_an_undelivered_province_is_refused_naming_the_product():
    with pytest.raises(RegionUndeliverable) as refused:
        compute(HONG_KONG, [Line(BY_PIECE, 1, 0, 100, "围巾"), Line(BY_WEIGHT, 1, 500, 100, "沙发")])
    assert refused.value.code == "SHIPPING_REGION_UNDELIVERABLE"
    assert refused.value.status == 400
    assert "沙发" in refused.value.message and "香港特别行政区" in refused.value.message
    assert "围巾" not in refused.value.message


def test_several_templates_charge_the_largest_first_fee_once():
    lines = [Line(BY_PIECE, 3, 0, 100, "a"), Line(BY_WEIGHT, 1, 2500, 100, "b")]
    # 大件 leads (first fee ¥20): 20 + 1 kg × 8; 普通快递 follows: 3 pieces = 2 steps × ¥5.
    result = compute(GUANGDONG, lines)
    assert result.amount == 2800 + 1000
    assert [g.leading for g in result.groups] == [False, True]


def test_a_free_group_adds_nothing_and_does_not_lead():
    free = Template(key=6, name="包邮", rates=Rates(1, 5000, 1, 5000), free=(FreeRule(over_amount=1),))
    lines = [Line(free, 1, 0, 100, "a"), Line(BY_PIECE, 1, 0, 100, "b")]
    assert compute(GUANGDONG, lines).amount == 1000


def test_the_shop_default_is_one_flat_fee_free_over_its_threshold():
    default = shop_default(800, 9900)
    lines = [Line(default, 5, 0, 4000, "a"), Line(default, 1, 0, 5899, "b")]
    assert compute(GUANGDONG, lines).amount == 800
    assert compute(GUANGDONG, [*lines, Line(default, 1, 0, 1, "c")]).amount == 0
    # Following a template, the flat fee adds nothing.
    assert compute(GUANGDONG, [*lines, Line(BY_PIECE, 2, 0, 1, "d")]).amount == 1500


templates = st.sampled_from([BY_PIECE, BY_WEIGHT, shop_default(800, 9900), shop_default(0, 0)])
lines_st = st.lists(
    st.builds(
        Line,
        template=templates,
        quantity=st.integers(1, 99),
        weight_grams=st.integers(0, 50_000),
        amount=st.integers(0, 1_000_000),
    ),
    min_size=1,
    max_size=8,
)


@given(lines_st, st.sampled_from([GUANGDONG, XINJIANG, None]))
def test_fee_is_never_above_charging_every_group_alone_and_never_below_the_largest(lines, province):
    result = compute(province, lines)
    alone = [
        compute(province, [ln for ln in lines if ln.template.key == key]).amount
        for key in {ln.template.key for ln in lines}
    ]
    assert max(alone) <= result.amount <= sum(alone)
    assert result.amount == sum(g.fee for g in result.groups)
    assert sum(g.leading for g in result.groups) == (1 if any(not g.free for g in result.groups) else 0)


@given(lines_st, st.integers(1, 5))
def test_more_pieces_never_cost_less(lines, extra):
    grown = [
        *lines[:-1],
        Line(lines[-1].template, lines[-1].quantity + extra, lines[-1].weight_grams, lines[-1].amount),
    ]
    if any(rule.over_units for ln in lines for rule in ln.template.free):
        return  # a count-based 包邮 may make more pieces free
    assert compute(GUANGDONG, grown).amount >= compute(GUANGDONG, lines).amount
