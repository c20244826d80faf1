"""A tab that does not exist in the address (?status=bogus) opens 全部 with its tab chosen on
我的订单 and 佣金明细 (it showed no tab chosen, and 佣金明细 an empty list); 我的团队's 间接成员
says what it lists when empty, not that the team is empty."""

import pytest
from django.test import Client

from fenxiao.distribution.tests.helpers import bound_buyer, buy, make_distributor, sku
from fenxiao.testing import in_english, make_product

pytestmark = pytest.mark.django_db


def h5(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_unknown_tab_opens_all_with_its_tab_chosen():
    seller = make_distributor()
    buyer = bound_buyer(seller)
    order = buy(buyer, (sku(make_product(price=5_000, stock=5)), 1))
    orders = h5(buyer).get("/orders/", {"status": "bogus"}).content.decode()
    assert order.number in orders and 'href="?status=" class="active"' in orders
    commissions = h5(seller.user).get("/d/commissions/", {"status": "bogus"}).content.decode()
    assert 'href="?" class="active"' in commissions and 'data-testid="commission-amount"' in commissions


def test_no_indirect_members_says_what_the_tab_lists():
    leader = make_distributor()
    make_distributor(parent=leader)
    page = h5(leader.user).get("/d/team/", {"depth": 2}).content.decode()
    assert "还没有间接成员" in page and "还没有团队成员" not in page
    assert (
        "No indirect members yet"
        in in_english(h5(leader.user)).get("/d/team/", {"depth": 2}).content.decode()
    )
    assert "还没有团队成员" in h5(make_distributor().user).get("/d/team/").content.decode()
