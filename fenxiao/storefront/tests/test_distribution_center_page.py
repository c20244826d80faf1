"""The distributor center (/d/) accounts for every yuan: 可提现, 提现中 (withdrawals waiting
for review or payment) and 已提现, at a query count that does not grow with withdrawals."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.services import withdrawals
from fenxiao.distribution.tests.helpers import earn, make_distributor
from fenxiao.testing import make_product, make_staff

pytestmark = pytest.mark.django_db


def figures(client) -> dict[str, str]:
    page = client.get("/d/").content.decode()
    withdrawing = re.search(r'data-testid="withdrawing">提现中 <b>(¥[\d.,]+)</b>', page)
    available = re.search(r'data-testid="available">(¥[\d.,]+)<', page)
    withdrawn = re.search(r"<b>(¥[\d.,]+)</b><span>已提现</span>", page)
    return {
        "可提现": available.group(1),
        "提现中": withdrawing.group(1) if withdrawing else None,
        "已提现": withdrawn.group(1),
    }


def ask(distributor, yuan: int):
    return withdrawals.request(distributor, amount=yuan * 100, method="store_credit")


def test_withdrawals_under_review_show_as_withdrawing(django_assert_max_num_queries):
    distributor = make_distributor()
    earn(distributor, 29800, product=make_product(price=29800))  # 10%: ¥29.80
    client = Client()
    client.force_login(distributor.user)
    assert figures(client) == {"可提现": "¥29.80", "提现中": "¥0.00", "已提现": "¥0.00"}

    first, second = ask(distributor, 10), ask(distributor, 10)
    assert figures(client) == {"可提现": "¥9.80", "提现中": "¥20.00", "已提现": "¥0.00"}

    staff = make_staff(superuser=True)
    withdrawals.approve(first, staff)  # store credit: paid at once
    assert figures(client) == {"可提现": "¥9.80", "提现中": "¥10.00", "已提现": "¥10.00"}
    withdrawals.reject(second, staff, reason="信息有误")  # the hold goes back
    assert figures(client) == {"可提现": "¥19.80", "提现中": "¥0.00", "已提现": "¥10.00"}

    with django_assert_max_num_queries(30) as few:
        client.get("/d/")
    ask(distributor, 1)
    ask(distributor, 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/d/")


def test_the_withdraw_page_asks_for_details_only_when_there_is_enough_to_withdraw():
    """Below the minimum a withdrawal is refused whatever is typed: the page says how much is
    needed and where commission comes from, with no form to fill in for nothing."""
    from fenxiao.distribution.services import config

    config.update_settings(make_staff(superuser=True), withdraw_min=2000)  # ¥20.00
    distributor = make_distributor()
    client = Client()
    client.force_login(distributor.user)
    for yuan in (0, 19.8):
        if yuan:
            earn(distributor, 19800, product=make_product(price=19800))  # 10%: ¥19.80
        page = client.get("/d/withdraw/").content.decode()
        assert "可提现佣金满 ¥20.00 即可申请提现" in page, yuan
        assert 'name="amount"' not in page and "申请提现</button>" not in page
        assert 'href="/d/commissions/"' in page

    earn(distributor, 29800, product=make_product(price=29800))
    page = client.get("/d/withdraw/").content.decode()
    assert 'name="amount"' in page and "申请提现</button>" in page
    assert "即可申请提现" not in page
