"""A fixed commission is typed and shown in yuan per unit (¥20.00/件), so the rule list's
方式 column and the form call it 固定金额（元/件）, not 分/件 (fen are only how it is stored)."""

import pytest

from fenxiao.distribution.models import CommissionRule, RuleKind
from fenxiao.testing import login, make_product, make_staff

from .backend import list_url

pytestmark = pytest.mark.django_db


def test_the_rule_list_calls_a_fixed_commission_yuan_per_unit():
    CommissionRule.objects.create(
        name="杯子每件", product=make_product("杯子"), kind=RuleKind.FIXED, level1=2000
    )
    page = login(make_staff(superuser=True)).get(list_url(CommissionRule)).content.decode()
    assert "固定金额（元/件）" in page and "¥20.00" in page
    assert "分/件" not in page
