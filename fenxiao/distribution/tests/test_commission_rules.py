"""Which rule sets each line's commission, and how much it is, to the fen."""

from datetime import timedelta

import pytest

from fenxiao.distribution.errors import RuleExceedsGuard
from fenxiao.distribution.models import (
    Commission,
    CommissionRule,
    CommissionRuleVersion,
    DistributorGrade,
    RuleKind,
    SalesTier,
)
from fenxiao.distribution.services import config
from fenxiao.orders.models import OrderSettings
from fenxiao.testing import api_for, make_category, make_product

from .helpers import (
    amounts,
    bound_buyer,
    buy,
    commission,
    commissions,
    configure,
    line,
    make_distributor,
    sku,
    travel,
)

pytestmark = pytest.mark.django_db

# Defaults unless a test says otherwise: level 1 = 10% (1000 bp), level 2 = 5% (500 bp),
# guard (max_commission_bp) = 50%.


def grade(name, weight, **fields) -> DistributorGrade:
    return config.save_grade(DistributorGrade(name=name, weight=weight, **fields))


def rule(name, **fields) -> CommissionRule:
    return config.save_rule(CommissionRule(name=name, **fields))


def test_sku_beats_product_beats_nearest_category_beats_grade_beats_default():
    grade("普通", 1, is_default=True)
    gold = grade("金牌", 3, level1_bp=1200)
    clothes = make_category("服装")
    menswear = make_category("男装", parent=clothes)
    shirts = make_category("衬衫", parent=menswear)
    shirt = make_product("衬衫A", category=shirts, price=10000, specs_list=[{"颜色": "白"}, {"颜色": "黑"}])
    other_shirt = make_product("衬衫B", category=shirts, price=10000)
    vase = make_product("花瓶", category=make_category("家居"), price=10000)
    rule("服装类", category=clothes, level1=800, level2=400)
    rule("男装类", category=menswear, level1=700)  # no level 2: level 2 looks further up
    rule("衬衫A", product=shirt, level1=600, level2=300)
    rule("白色衬衫A", sku=sku(shirt, 0), level1=300)  # no level 2: the product rule decides
    a = make_distributor()  # default grade 普通 (no rates of its own)
    b = make_distributor(parent=a, grade=gold)

    order = buy(bound_buyer(b), (sku(shirt, 0), 1), (sku(shirt, 1), 1), (sku(other_shirt), 1), (sku(vase), 1))

    found = commissions(order)
    # Each line paid 10000; commission = 10000 × bp / 10000.
    expected = {
        (0, 1): (300, "sku", "白色衬衫A"),  # 3%
        (0, 2): (300, "product", "衬衫A"),  # 3%
        (1, 1): (600, "product", "衬衫A"),  # 6%
        (1, 2): (300, "product", "衬衫A"),  # 3%
        (2, 1): (700, "category", "男装类"),  # 7%: 衬衫 has no rule, 男装 is nearest
        (2, 2): (400, "category", "服装类"),  # 4%
        (3, 1): (1200, "grade", None),  # b is 金牌: 12%
        (3, 2): (500, "default", None),  # a is 普通 without rates: default 5%
    }
    assert {
        key: (c.amount, c.rule_source, c.rule.name if c.rule else None) for key, c in found.items()
    } == expected
    assert found[(3, 1)].grade_name == "金牌"


def test_a_rule_for_the_beneficiarys_grade_beats_the_rule_for_every_grade():
    grade("普通", 1, is_default=True)
    gold = grade("金牌", 3)
    product = make_product(price=10000)
    rule("通用", product=product, level1=600, level2=200)
    rule("金牌专享", product=product, grade=gold, level1=900)
    a = make_distributor()
    gold_b = make_distributor(parent=a, grade=gold)
    plain_b = make_distributor(parent=a)

    gold_order = buy(bound_buyer(gold_b), (sku(product), 1))
    plain_order = buy(bound_buyer(plain_b), (sku(product), 1))

    # 金牌 level 1: 10000 × 9% = 900; a (普通) level 2: 10000 × 2% = 200
    assert amounts(gold_order) == {(0, 1): 900, (0, 2): 200}
    assert commission(gold_order, 1).rule.name == "金牌专享"
    # 普通 level 1: 10000 × 6% = 600
    assert amounts(plain_order) == {(0, 1): 600, (0, 2): 200}
    assert commission(plain_order, 1).rule.name == "通用"


def test_a_fixed_commission_is_per_unit():
    mug = make_product("马克杯", price=3000)
    rule("马克杯固定", product=mug, kind=RuleKind.FIXED, level1=250, level2=100)
    a = make_distributor()
    b = make_distributor(parent=a)
    buyer = bound_buyer(b)

    order = buy(buyer, (sku(mug), 3))

    # level 1: ¥2.50 × 3 = 750; level 2: ¥1.00 × 3 = 300 (whatever the price)
    assert amounts(order) == {(0, 1): 750, (0, 2): 300}
    level1 = commission(order, 1)
    assert (level1.rule_kind, level1.fixed_per_unit, level1.quantity) == ("fixed", 250, 3)
    item = api_for(b.user).get("/distribution/commissions").json()["items"][0]
    assert "¥2.50/件 × 3件" in item["why"] and item["why"].endswith("= ¥7.50")


def test_rates_are_rounded_down_to_the_fen():
    a = make_distributor()
    b = make_distributor(parent=a)
    odd = make_product(price=12345)
    thirds = make_product(price=3333)

    order = buy(bound_buyer(b), (sku(odd), 1), (sku(thirds), 3))

    # 12345 × 10% = 1234.5 → 1234;  12345 × 5% = 617.25 → 617
    # 3333 × 3 = 9999: 9999 × 10% = 999.9 → 999;  9999 × 5% = 499.95 → 499
    assert amounts(order) == {(0, 1): 1234, (0, 2): 617, (1, 1): 999, (1, 2): 499}


def test_the_guard_refuses_a_rule_that_could_exceed_it():
    configure(max_commission_bp=3000)
    cheap = make_product(price=1000)

    with pytest.raises(RuleExceedsGuard):
        rule("太高", product=cheap, level1=2000, level2=1500)  # 20% + 15% = 35% > 30%
    with pytest.raises(RuleExceedsGuard):
        # ¥2.00 + ¥1.50 = ¥3.50 per unit > 30% of the ¥10.00 price = ¥3.00
        rule("固定太高", product=cheap, kind=RuleKind.FIXED, level1=200, level2=150)
    assert CommissionRule.objects.count() == 0

    config.save_tier(SalesTier(threshold=100000, bonus_bp=500))
    with pytest.raises(RuleExceedsGuard) as refused:
        # 20% + 6% = 26% alone, but with the 5% tier bonus it could reach 31% > 30%
        rule("加上阶梯", product=cheap, level1=2000, level2=600)
    assert "超过上限" in refused.value.message
    rule("刚好", product=cheap, level1=2000, level2=500)  # 20% + 5% + 5% = 30%: allowed
    assert CommissionRule.objects.count() == 1


def test_a_grade_that_would_push_an_existing_rule_over_the_guard_is_refused():
    # Guard 50%. The rule sets level 1 = 40% and leaves level 2 to the fallback (default 5%):
    # 45%, allowed. A grade paying 15% on level 2 would make that line 55%: refused, unsaved.
    product = make_product(price=10000)
    rule("高佣单品", product=product, level1=4000)
    with pytest.raises(RuleExceedsGuard) as refused:
        config.save_grade(DistributorGrade(name="金牌", weight=30, level2_bp=1500))
    assert "高佣单品" in refused.value.message
    assert not DistributorGrade.objects.filter(name="金牌").exists()
    config.save_grade(DistributorGrade(name="金牌", weight=30, level2_bp=1000))  # 40% + 10%
    assert DistributorGrade.objects.filter(name="金牌").exists()


def test_the_guard_caps_a_line_at_calculation():
    """A fixed rule checked against the price can exceed the guard after a discount."""
    bag = make_product("包", price=2000)
    # ¥5.00 + ¥4.00 = ¥9.00 per unit ≤ 50% of ¥20.00 = ¥10.00: accepted.
    rule("包固定", product=bag, kind=RuleKind.FIXED, level1=500, level2=400)
    a = make_distributor()
    b = make_distributor(parent=a)

    order = buy(bound_buyer(b), (sku(bag), 1), discount=700)

    # Paid 2000 − 700 = 1300; guard 1300 × 50% = 650. Uncapped 500 + 400 = 900,
    # 250 over: trimmed from the deepest level, level 2 400 − 250 = 150.
    assert line(order).paid_amount == 1300
    level1, level2 = commission(order, 1), commission(order, 2)
    assert (level1.amount, level1.capped) == (500, 0)
    assert (level2.amount, level2.capped) == (150, 250)
    assert level1.amount + level2.amount == 650
    why = api_for(a.user).get("/distribution/commissions").json()["items"][0]["why"]
    assert "扣减 ¥2.50" in why and why.endswith("= ¥1.50")


def test_the_tier_bonus_adds_to_level_1_once_this_months_sales_reach_the_threshold():
    config.save_tier(SalesTier(threshold=10000, bonus_bp=200))  # ≥ ¥100 this month: +2%
    a = make_distributor()
    b = make_distributor(parent=a)
    buyer = bound_buyer(b)
    lamp = make_product("台灯", price=4000)

    with travel(timedelta(days=-40)):  # last month's sales do not count
        last_month = buy(buyer, (sku(lamp), 2))
    first = buy(buyer, (sku(lamp), 2))
    crossing = buy(buyer, (sku(lamp), 1))
    after = buy(buyer, (sku(lamp), 1))

    # Last month 8000 < 10000: 8000 × 10% = 800, level 2 8000 × 5% = 400.
    assert amounts(last_month) == {(0, 1): 800, (0, 2): 400}
    # This month 8000 (last month's 8000 does not add up to 16000): no bonus either.
    assert amounts(first) == {(0, 1): 800, (0, 2): 400}
    # This order brings the month to 8000 + 4000 = 12000 ≥ 10000 and counts itself:
    # 4000 × (10% + 2%) = 480; level 2 gets no tier bonus: 4000 × 5% = 200
    assert amounts(crossing) == {(0, 1): 480, (0, 2): 200}
    assert amounts(after) == {(0, 1): 480, (0, 2): 200}
    assert (commission(after, 1).rate_bp, commission(after, 1).bonus_bp) == (1000, 200)


def test_team_commission_goes_to_a_level_2_whose_grade_grants_it():
    grade("普通", 1, is_default=True)
    leader = grade("团队长", 5, team_bp=100)
    a = make_distributor(grade=leader)
    b = make_distributor(parent=a)
    product = make_product(price=10000)

    team_sale = buy(bound_buyer(b), (sku(product), 1))
    own_sale = buy(bound_buyer(a), (sku(product), 1))

    # b level 1: 10000 × 10% = 1000; a level 2: 10000 × (5% + 1% team) = 600
    assert amounts(team_sale) == {(0, 1): 1000, (0, 2): 600}
    assert commission(team_sale, 2).team_bp == 100
    # a selling directly is level 1: no team commission, 10000 × 10% = 1000
    assert amounts(own_sale) == {(0, 1): 1000}
    assert commission(own_sale, 1).team_bp == 0


def test_an_excluded_product_pays_no_level_no_tier_bonus_and_no_team_commission():
    config.save_tier(SalesTier(threshold=0, bonus_bp=200))  # every sale earns +2% at level 1
    grade("普通", 1, is_default=True)
    leader = grade("团队长", 5, team_bp=100)
    a = make_distributor(grade=leader)
    b = make_distributor(parent=a)
    zero, excluded, normal = (make_product(name, price=10000) for name in ("零佣金", "不计佣金", "普通"))
    rule("零佣金", product=zero, level1=0, level2=0)
    rule("特价不计佣", product=excluded, kind=RuleKind.EXCLUDE)

    order = buy(bound_buyer(b), (sku(zero), 1), (sku(excluded), 1), (sku(normal), 1))

    # 0 %: level 1 still gets the 2% tier bonus (200), level 2 the 1% team commission (100).
    # 不计佣金: nothing at all. 普通: 10000 × (10% + 2%) = 1200 and 10000 × (5% + 1%) = 600.
    assert amounts(order) == {(0, 1): 200, (0, 2): 100, (2, 1): 1200, (2, 2): 600}
    assert not Commission.objects.filter(order_line=line(order, 1)).exists()


def test_an_exclusion_follows_the_rule_precedence():
    """A category excluded from commission, with one product in it paid by its own rule."""
    sale = make_category("清仓")
    paid = make_product("清仓但有佣", category=sale, price=10000)
    plain = make_product("清仓商品", category=sale, price=10000)
    rule("清仓不计佣", category=sale, kind=RuleKind.EXCLUDE)
    rule("单品仍计佣", product=paid, level1=800)
    a = make_distributor()
    b = make_distributor(parent=a)

    order = buy(bound_buyer(b), (sku(paid), 1), (sku(plain), 1))

    # 清仓但有佣: level 1 by its product rule 8% = 800; level 2 (the product rule leaves it
    # empty) falls to the category rule, which excludes it. 清仓商品: nothing.
    assert amounts(order) == {(0, 1): 800}
    assert (commission(order, 1).rule_name, commission(order, 1).rate_bp) == ("单品仍计佣", 800)


def test_the_guard_checks_the_worst_combination_of_grades():
    # Guard 50%, default 10% / 5%. 金牌 pays 35% at level 1 (+5% default level 2 = 40%),
    # 银牌 pays 12% at level 2 (+10% default level 1 = 22%): each fine on its own. But a 金牌
    # level 1 with a 银牌 level 2 on one order pays 35% + 12% = 47%, and with a 2% tier bonus
    # and 银牌's 2% team commission 51% > 50%.
    config.save_tier(SalesTier(threshold=100000, bonus_bp=200))
    grade("金牌", 5, level1_bp=3500)
    with pytest.raises(RuleExceedsGuard) as refused:
        grade("银牌", 3, level2_bp=1200, team_bp=200)
    assert "一级 35%（金牌）" in refused.value.message
    assert "二级 12%（银牌）" in refused.value.message
    assert "= 51%，超过单商品佣金上限 50%" in refused.value.message
    assert not DistributorGrade.objects.filter(name="银牌").exists()
    grade("银牌", 3, level2_bp=1100, team_bp=200)  # 35% + 11% + 2% + 2% = 50%: allowed

    # The settings and rules are held to the same combination.
    with pytest.raises(RuleExceedsGuard):
        configure(max_commission_bp=4900)
    assert config.current().max_commission_bp == 5000
    assert CommissionRule.objects.count() == 0


def test_the_guard_checks_rules_for_different_grades_on_one_product_together():
    # Guard 50%, 2% tier bonus, 银牌 grants a 2% team commission. On one product, a rule for
    # every grade pays 35% at level 1 (35% + 5% default + 2% + 2% = 44%), and a rule for
    # 银牌 only pays 12% at level 2 (10% default + 12% + 2% + 2% = 26%): each passes alone.
    # An order where anyone earns level 1 and a 银牌 earns level 2 pays 35% + 12% + 2% + 2%.
    config.save_tier(SalesTier(threshold=100000, bonus_bp=200))
    silver = grade("银牌", 3, team_bp=200)
    product = make_product("耳机", price=10000)
    rule("耳机高佣", product=product, level1=3500)
    with pytest.raises(RuleExceedsGuard) as refused:
        rule("银牌二级", product=product, grade=silver, level2=1200)
    assert refused.value.message == (
        "商品“耳机”：不同等级的分销商组合后，一级 35%（任意等级） + 二级 12%（银牌） + 阶梯奖励 2% "
        "+ 团队佣金 2% = 51%，超过单商品佣金上限 50%"
    )
    assert CommissionRule.objects.count() == 1
    rule("银牌二级", product=product, grade=silver, level2=1100)  # 50%: allowed
    assert CommissionRule.objects.count() == 2


def test_a_commission_explains_itself_with_the_rule_as_it_was():
    product = make_product(price=10000)
    saved = rule("夏季推广", product=product, level1=800)
    b = make_distributor()
    buyer = bound_buyer(b)
    order = buy(buyer, (sku(product), 1))

    saved.name = "秋季推广"
    saved.level1 = 1200
    config.save_rule(saved)

    why = api_for(b.user).get("/distribution/commissions").json()["items"][0]
    assert why["rule_name"] == "夏季推广"
    assert "商品规则“夏季推广” v1：8%" in why["why"]
    assert why["why"].endswith("= ¥8.00")
    assert "秋季推广" not in why["why"]
    versions = CommissionRuleVersion.objects.filter(rule=saved).order_by("version")
    assert [(v.version, v.name, v.level1) for v in versions] == [(1, "夏季推广", 800), (2, "秋季推广", 1200)]
    # A new order uses the rule as it now is.
    later = buy(buyer, (sku(product), 1))
    assert (commission(later, 1).rule_name, commission(later, 1).rule_version) == ("秋季推广", 2)
    assert commission(order, 1).rule_name == "夏季推广"


def test_the_base_is_what_the_line_paid_after_the_discount_without_shipping():
    OrderSettings.objects.create(shipping_fee=1000, free_shipping_threshold=0)
    a = make_distributor()
    b = make_distributor(parent=a)
    small, big = make_product("袜子", price=3000), make_product("外套", price=7000)

    order = buy(bound_buyer(b), (sku(small), 1), (sku(big), 1), discount=1001)

    # Goods 10000, discount 1001 spread by subtotal with largest remainder:
    #   1001 × 3000 / 10000 = 300.3 → 300, 1001 × 7000 / 10000 = 700.7 → 700, the
    #   leftover 1 fen goes to the larger remainder (0.7): shares 300 and 701.
    # Paid per line: 3000 − 300 = 2700, 7000 − 701 = 6299; shipping 1000 is not a base.
    assert order.total == 10000 - 1001 + 1000
    assert [ln.paid_amount for ln in order.lines.order_by("pk")] == [2700, 6299]
    # level 1: 2700 × 10% = 270, 6299 × 10% = 629.9 → 629
    # level 2: 2700 × 5% = 135, 6299 × 5% = 314.95 → 314
    assert amounts(order) == {(0, 1): 270, (1, 1): 629, (0, 2): 135, (1, 2): 314}
    assert commission(order, 1, line(order, 1)).base == 6299
    whys = [c["why"] for c in api_for(b.user).get("/distribution/commissions").json()["items"]]
    assert any("商家改价 -¥7.01" in w and w.endswith("= ¥6.29") for w in whys)


def test_a_rule_change_is_versioned_and_the_commission_keeps_the_version_it_used():
    product = make_product(price=10000)
    saved = rule("单品", product=product, level1=800)
    b = make_distributor()
    buyer = bound_buyer(b)
    before = buy(buyer, (sku(product), 1))
    saved.level1 = 900
    config.save_rule(saved)
    after = buy(buyer, (sku(product), 1))

    # 10000 × 8% = 800 with version 1; 10000 × 9% = 900 with version 2
    assert (commission(before, 1).amount, commission(before, 1).rule_version) == (800, 1)
    assert (commission(after, 1).amount, commission(after, 1).rule_version) == (900, 2)


def test_a_level_the_rule_leaves_empty_counts_with_the_rate_it_falls_back_to():
    """A rule that sets level 1 only still pays level 2 from further down the chain."""
    grade("普通", 1, is_default=True, level2_bp=800)
    clothes = make_category("服装")
    coats = make_category("外套", parent=clothes)
    coat = make_product("大衣", category=coats, price=10000)
    rule("服装类", category=clothes, level1=1000, level2=1500)

    with pytest.raises(RuleExceedsGuard):
        # 40% + the 15% level 2 of 服装类 it falls back to = 55% > 50%
        rule("大衣", product=coat, level1=4000)
    with pytest.raises(RuleExceedsGuard):
        # The same on the sub-category: level 2 could be 服装类's 15% (more than the
        # 普通 grade's 8% or the 5% default): 55% > 50%
        rule("外套类", category=coats, level1=4000)
    with pytest.raises(RuleExceedsGuard):
        # ¥45.00 per unit on a ¥100.00 coat + 15% level 2 fallback = ¥60.00 > ¥50.00
        rule("大衣固定", product=coat, kind=RuleKind.FIXED, level1=4500)
    assert CommissionRule.objects.count() == 1

    accepted = rule("大衣", product=coat, level1=3500)  # 35% + 15% = 50%: allowed
    b = make_distributor(parent=make_distributor())
    order = buy(bound_buyer(b), (sku(coat), 1))
    # level 1: 10000 × 35% = 3500 (大衣); level 2: 10000 × 15% = 1500 (服装类); no cap
    assert amounts(order) == {(0, 1): 3500, (0, 2): 1500}
    assert commission(order, 1).rule == accepted and commission(order, 2).capped == 0
