"""佣金提现 has 全部提现, as WeChat's own 零钱提现 does: one tap fills in the whole balance (or
the single-request maximum, when the balance is above it) instead of the distributor copying
¥39.29 down by hand and getting a decimal wrong."""

import pytest

from fenxiao.distribution.models import Withdrawal
from fenxiao.distribution.tests.helpers import configure, earn, make_distributor
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_withdraw_all_fills_in_the_balance_and_sends_it(phones, live_server):
    distributor = make_distributor()
    earn(distributor, 39290)  # 10% of ¥392.90: ¥39.29
    configure(withdraw_methods=["store_credit"])
    page = signed_in_phone(phones, live_server, distributor.user, "withdraw-all").page
    assert page.goto("/d/withdraw/").status == 200
    page.get_by_role("button", name="全部提现").click(timeout=5000)
    assert page.get_by_label("提现金额（元）").input_value() == "39.29"
    page.get_by_role("button", name="申请提现").click()
    page.get_by_text("提现申请已提交").wait_for()
    assert Withdrawal.objects.get(distributor=distributor).amount == 3929


def test_withdraw_all_stops_at_the_single_request_maximum(phones, live_server):
    distributor = make_distributor()
    earn(distributor, 39290)
    configure(withdraw_max=2000)
    page = signed_in_phone(phones, live_server, distributor.user, "withdraw-all-max").page
    page.goto("/d/withdraw/")
    page.get_by_role("button", name="全部提现").click(timeout=5000)
    assert page.get_by_label("提现金额（元）").input_value() == "20.00"
