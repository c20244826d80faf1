"""排行榜's 销售额榜 ranks by 推广销售额 as each distributor's center counts it (and the
sales-amount tier measures it): a 导购's sales at the store's till count with their online
orders."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.models import DistributorStatus
from fenxiao.distribution.services import dashboard, distributors
from fenxiao.testing import api_for

from .helpers import earn, full_refund, make_distributor, suspend, till_sale

pytestmark = pytest.mark.django_db


def test_till_sales_count_in_the_sales_ranking():
    online = make_distributor()
    guide = make_distributor()
    earn(online, 30000)  # ¥300.00 online
    earn(guide, 10000)  # ¥100.00 online
    till_sale(guide, "T1", 50000)  # ¥500.00 at the till
    full_refund(earn(online, 40000))  # refunded in full: ¥0.00 more
    assert dashboard.figures(guide)["sales"] == 60000

    for period in ("week", "month"):
        ranked = [(r["distributor_id"], r["value"]) for r in dashboard.ranking("sales", period)]
        assert ranked == [(guide.pk, 60000), (online.pk, 30000)], period

    client = Client()
    client.force_login(online.user)
    page = client.get("/d/rankings/?by=sales&period=month").content.decode()
    assert re.findall(r'<span class="price">(¥[\d.]+)</span>', page) == ["¥600.00", "¥300.00"]
    app = api_for(guide.user).get("/distribution/rankings", by="sales").json()
    assert [(r["rank"], r["distributor_id"], r["value"]) for r in app] == [
        (1, guide.pk, 60000),
        (2, online.pk, 30000),
    ]


@pytest.mark.parametrize("by", ["sales", "commission"])
def test_suspended_and_banned_distributors_are_left_out_of_the_rankings(by):
    """排行榜 is public to every distributor: one suspended or banned is not held up as an
    example (both showed, at their old place). Their sales still happened; only the list
    leaves them out, and the active ones move up."""
    active = make_distributor()
    suspended = make_distributor()
    banned = make_distributor()
    earn(active, 10000)
    earn(suspended, 30000)
    earn(banned, 20000)
    till_sale(suspended, "T2", 40000)  # the till's ranking leaves them out too
    suspend(suspended)
    # Keep what they earned, so the commission ranking would still have a figure for them.
    distributors.set_status(banned, None, DistributorStatus.BANNED, reason="刷单", decision="release")

    ranked = [(r["rank"], r["distributor_id"]) for r in dashboard.ranking(by, "month")]
    assert ranked == [(1, active.pk)]

    client = Client()
    client.force_login(active.user)
    page = client.get(f"/d/rankings/?by={by}&period=month").content.decode()
    assert active.user.display_name in page
    assert suspended.user.display_name not in page and banned.user.display_name not in page
    app = api_for(active.user).get("/distribution/rankings", by=by).json()
    assert [(r["rank"], r["distributor_id"]) for r in app] == [(1, active.pk)]


@pytest.mark.parametrize("by", ["sales", "commission"])
def test_a_tie_ranks_the_earlier_distributor_first(by):
    """Equal figures come out in one order on every view (the commission ranking had no
    tie-break, so two equal earners could swap places from one refresh to the next)."""
    first, second, third = make_distributor(), make_distributor(), make_distributor()
    for distributor in (third, second, first):
        earn(distributor, 10000)
    ranked = [r["distributor_id"] for r in dashboard.ranking(by, "month")]
    assert ranked == [first.pk, second.pk, third.pk]
