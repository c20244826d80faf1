"""The coupon form says what 0 means under 每人限领, as it does under 发行量: a merchant typing
0 had no hint whether it lifts the limit or stops every claim (it lifts it)."""

import re

import pytest
from django.urls import reverse

from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["total_quantity", "per_buyer_limit"])
def test_both_limits_say_zero_means_no_limit(field):
    html = (
        login(make_staff("boss", superuser=True)).get(reverse("admin:promotions_coupon_add")).content.decode()
    )
    after = html[html.index(f'id="id_{field}"') :]
    help_text = re.search(r'<div class="leading-relaxed[^"]*">\s*([^<]*?)\s*</div>', after).group(1)
    assert f'aria-describedby="id_{field}_helptext"' in html
    assert help_text == "0 表示不限"
