"""Rates in the backend are typed and shown as percentages and stored as basis points; the
rate boxes look like every other input."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from fenxiao.catalog.models import Category
from fenxiao.core.admin_forms import PercentField
from fenxiao.core.money import format_bp, percent_to_bp
from fenxiao.distribution.models import CommissionRule, DistributorGrade, SalesTier
from fenxiao.distribution.services import config
from fenxiao.testing import make_staff

pytestmark = pytest.mark.django_db

RULES = reverse("admin:distribution_commissionrule_changelist")
RULE_ADD = reverse("admin:distribution_commissionrule_add")


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def rule_data(**overrides) -> dict:
    data = {"name": "数码类", "kind": "rate", "is_active": "on"}
    data.update({f"{p}{i}": "" for p in ("rate", "fixed") for i in (1, 2, 3)})
    data.update(overrides)
    return data


def input_tag(body: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', body)
    assert match, name
    return match.group(0)


@pytest.mark.parametrize(
    "typed, bp", [("15", 1500), ("15.5", 1550), ("15.50 %", 1550), ("0.01", 1), ("100", 10000)]
)
def test_percent_typed_is_basis_points(typed, bp):
    assert percent_to_bp(typed) == bp
    assert PercentField().clean(typed) == bp


@pytest.mark.parametrize("typed", ["15.555", "abc", "1e3", "-1", "100.01", "NaN"])
def test_bad_percentages_are_refused(typed):
    with pytest.raises(ValidationError):
        PercentField().clean(typed)


def test_format_bp():
    assert (format_bp(1500), format_bp(1), format_bp(0), format_bp(None)) == (
        "15.00 %",
        "0.01 %",
        "0.00 %",
        "-",
    )


def test_rule_rates_are_typed_and_shown_in_percent(boss):
    category = Category.objects.create(name="数码")
    body = boss.get(RULE_ADD).content.decode()
    for name in ("rate1", "rate2", "rate3"):
        tag = input_tag(body, name)
        # unfold's input classes: a visible border like every other box.
        assert "border" in tag and "rounded" in tag, tag
    assert "一级比例（%）" in body

    reply = boss.post(RULE_ADD, rule_data(category=category.pk, rate1="15.5", rate2="3"))
    assert reply.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.level1, rule.level2, rule.level3) == (1550, 300, None)
    assert "15.50 % / 3.00 % / -" in boss.get(RULES).content.decode()
    edit = boss.get(reverse("admin:distribution_commissionrule_change", args=[rule.pk])).content.decode()
    assert 'value="15.50"' in input_tag(edit, "rate1")

    reply = boss.post(RULE_ADD, rule_data(name="错", category=category.pk, rate1="1.234"))
    assert reply.status_code == 200 and "最多两位小数" in reply.content.decode()
    assert CommissionRule.objects.count() == 1


def test_settings_grades_and_tiers_in_percent(boss):
    cfg = config.current()
    page = boss.get(reverse("admin:distribution_distributionsettings_change", args=[cfg.pk])).content.decode()
    assert f'value="{cfg.level1_bp // 100}.00"' in input_tag(page, "level1_bp")
    assert "默认一级佣金（%）" in page and "基点" not in page

    reply = boss.post(
        reverse("admin:distribution_distributorgrade_add"),
        {"name": "金牌", "weight": "3", "level1_bp": "12.5", "team_bp": "1", "logic": "all"},
    )
    assert reply.status_code == 302, reply.context["adminform"].form.errors
    grade = DistributorGrade.objects.get(name="金牌")
    assert (grade.level1_bp, grade.team_bp) == (1250, 100)
    listing = boss.get(reverse("admin:distribution_distributorgrade_changelist")).content.decode()
    assert "12.50 %" in listing and "1.00 %" in listing

    reply = boss.post(reverse("admin:distribution_salestier_add"), {"threshold": "10000.00", "bonus_bp": "2"})
    assert reply.status_code == 302
    assert SalesTier.objects.get().bonus_bp == 200
    assert "2.00 %" in boss.get(reverse("admin:distribution_salestier_changelist")).content.decode()
