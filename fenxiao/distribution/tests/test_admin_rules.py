"""The backend's grades, commission rules and sales tiers: the guard refuses what would pay
too much, in the form, and nothing is saved."""

import pytest
from django.urls import reverse

from fenxiao.catalog.models import Category
from fenxiao.distribution.models import (
    CommissionRule,
    DistributorGrade,
    SalesTier,
)
from fenxiao.distribution.services import (
    config,
)
from fenxiao.testing import make_product

from .backend import list_url, texts, url

pytestmark = pytest.mark.django_db


# --- 分销等级 / 佣金规则 / 阶梯 -------------------------------------------------------------


def rule_data(**overrides) -> dict:
    data = {
        "name": "数码类",
        "kind": "rate",
        "is_active": "on",
        "rate1": "",
        "rate2": "",
        "rate3": "",
        "fixed1": "",
        "fixed2": "",
        "fixed3": "",
    }
    data.update(overrides)
    return data


def test_a_rule_over_the_guard_is_refused_and_not_saved(boss):
    category = Category.objects.create(name="数码")
    reply = boss.post(
        list_url(CommissionRule, "add"), rule_data(category=category.pk, rate1="40", rate2="20")
    )
    assert reply.status_code == 200
    assert "超过上限" in reply.content.decode()
    assert CommissionRule.objects.count() == 0

    reply = boss.post(list_url(CommissionRule, "add"), rule_data(rate1="10"))
    assert "规则必须且只能指定商品、SKU 或分类之一" in reply.content.decode()
    assert CommissionRule.objects.count() == 0

    reply = boss.post(list_url(CommissionRule, "add"), rule_data(category=category.pk, rate1="15", rate2="3"))
    assert reply.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.level1, rule.level2, rule.level3, rule.version) == (1500, 300, None, 1)

    reply = boss.post(url(rule), rule_data(category=category.pk, rate1="16", rate2="3"))
    assert reply.status_code == 302
    rule.refresh_from_db()
    assert (rule.level1, rule.version) == (1600, 2)


def test_a_fixed_rule_takes_yuan_per_unit(boss):
    product = make_product("耳机", price=10000)
    reply = boss.post(
        list_url(CommissionRule, "add"),
        rule_data(name="耳机", product=product.pk, kind="fixed", fixed1="5.50", fixed2="2"),
    )
    assert reply.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.kind, rule.level1, rule.level2) == ("fixed", 550, 200)
    assert "¥5.50/件" in boss.get(list_url(CommissionRule)).content.decode()

    reply = boss.post(url(rule), rule_data(name="耳机", product=product.pk, kind="fixed", fixed1="60.00"))
    assert "超过最低售价的上限" in reply.content.decode()
    rule.refresh_from_db()
    assert rule.level1 == 550


def test_a_rule_can_exclude_a_product_from_commission(boss):
    product = make_product("特价机", price=10000)
    reply = boss.post(
        list_url(CommissionRule, "add"),
        rule_data(name="特价不计佣", product=product.pk, kind="exclude", rate1="5"),
    )
    assert reply.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.kind, rule.level1, rule.level2, rule.level3) == ("exclude", None, None, None)
    assert "不计佣金" in boss.get(list_url(CommissionRule)).content.decode()
    page = boss.get(url(rule)).content.decode()
    assert "v1 · 特价不计佣 · 所有等级 · 不计佣金" in page


def test_rules_that_pass_alone_but_not_together_are_refused_in_the_form(boss):
    # 35% level 1 for every grade and 12% level 2 for 银牌 on one product: 47% plus the
    # 2% tier bonus and 银牌's 2% team commission = 51% > 50%.
    silver = DistributorGrade.objects.create(name="银牌", weight=3, team_bp=200)
    config.save_tier(SalesTier(threshold=100000, bonus_bp=200))
    product = make_product("耳机", price=10000)
    reply = boss.post(list_url(CommissionRule, "add"), rule_data(name="高佣", product=product.pk, rate1="35"))
    assert reply.status_code == 302
    reply = boss.post(
        list_url(CommissionRule, "add"),
        rule_data(name="银牌二级", product=product.pk, grade=silver.pk, rate2="12"),
    )
    assert reply.status_code == 200
    assert reply.context["adminform"].form.non_field_errors() == [
        "商品“耳机”：不同等级的分销商组合后，一级 35%（任意等级） + 二级 12%（银牌） + 阶梯奖励 2% "
        "+ 团队佣金 2% = 51%，超过单商品佣金上限 50%"
    ]
    assert CommissionRule.objects.count() == 1


def test_a_grade_fine_alone_but_over_the_guard_beside_another_is_refused_in_the_form(boss):
    # 金牌 35% level 1 (+5% default level 2 = 40%) and 银牌 12% level 2 with a 3% team
    # commission (+10% default level 1 = 25%) each pass; a 金牌 level 1 above a 银牌 level 2
    # earns 35% + 12% + 3% = 50%, a 银牌 at 13% would make 51% > 50%.
    DistributorGrade.objects.create(name="金牌", weight=5, level1_bp=3500)
    data = {"name": "银牌", "weight": "3", "level2_bp": "13", "team_bp": "3", "logic": "all"}
    reply = boss.post(list_url(DistributorGrade, "add"), data)
    assert reply.status_code == 200
    assert reply.context["adminform"].form.non_field_errors() == [
        "默认比例与等级比例：不同等级的分销商组合后，一级 35%（金牌） + 二级 13%（银牌） "
        "+ 团队佣金 3% = 51%，超过单商品佣金上限 50%"
    ]
    assert not DistributorGrade.objects.filter(name="银牌").exists()
    reply = boss.post(list_url(DistributorGrade, "add"), {**data, "level2_bp": "12"})
    assert reply.status_code == 302
    assert DistributorGrade.objects.filter(name="银牌").exists()


def test_grades_go_through_the_guard_and_upgrade_on_demand(world, boss):
    reply = boss.post(
        list_url(DistributorGrade, "add"),
        {"name": "钻石", "weight": "9", "level1_bp": "49", "team_bp": "0", "logic": "all"},
    )
    assert reply.status_code == 200
    assert "超过单商品佣金上限" in reply.content.decode()
    assert not DistributorGrade.objects.filter(name="钻石").exists()

    # A new default grade takes the flag from the old one (save_grade).
    reply = boss.post(
        list_url(DistributorGrade, "add"),
        {
            "name": "高级",
            "weight": "2",
            "is_default": "on",
            "team_bp": "0",
            "logic": "any",
            "min_own_sales": "500.00",
        },
    )
    assert reply.status_code == 302
    senior = DistributorGrade.objects.get(name="高级")
    assert senior.is_default and senior.min_own_sales == 50000
    assert not DistributorGrade.objects.get(name="普通").is_default

    gold = world["gold"]
    gold.min_own_sales = 1
    gold.save()
    reply = boss.post(reverse("admin:distribution_distributorgrade_evaluate_upgrades"), {"_confirm": "1"})
    assert reply.status_code == 302
    world["b"].refresh_from_db()
    assert world["b"].grade == gold
    assert any("已升级" in t for t in texts(reply))


def test_a_tier_that_breaks_the_guard_is_refused(boss):
    reply = boss.post(list_url(SalesTier, "add"), {"threshold": "10000.00", "bonus_bp": "40"})
    assert reply.status_code == 200
    assert "超过单商品佣金上限" in reply.content.decode()
    assert SalesTier.objects.count() == 0
    reply = boss.post(list_url(SalesTier, "add"), {"threshold": "10000.00", "bonus_bp": "2"})
    assert reply.status_code == 302
    assert SalesTier.objects.get().threshold == 1000000
