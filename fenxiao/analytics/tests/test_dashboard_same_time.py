"""今日 on the dashboard compares with 昨日同时段: today's figures run up to the last refresh
of the aggregates (11:30 here), so yesterday counts up to 11:30 too, from the raw rows,
exactly as a whole day is counted. Other ranges still compare whole periods."""

import contextlib
import re
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from fenxiao.analytics.models import VisitorDay
from fenxiao.analytics.services import aggregates, dashboard, periods
from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.testing import api_for, login, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

_real_now = timezone.now
TODAY = timezone.localdate()
YESTERDAY = TODAY - timedelta(days=1)


def moment(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@contextlib.contextmanager
def at(when):
    started = _real_now()
    with mock.patch("django.utils.timezone.now", lambda: when + (_real_now() - started)):
        yield


def visitor(day, name, hour):
    seen = moment(day, hour)
    VisitorDay.objects.create(
        day=day, visitor=name, source="direct", page_views=2, first_seen_at=seen, last_seen_at=seen
    )


@pytest.fixture
def shop():
    """Yesterday: ¥100 at 09:00, ¥20 at 11:45, ¥50 at 20:00; visitors from 08:00 and 21:00.
    Today: ¥30 at 11:00, a visitor from 10:00; the aggregates refreshed at 11:30."""
    lamp = make_product("台灯", price=10000)
    pen = make_product("钢笔", price=2000)
    cup = make_product("茶杯", price=5000)
    mug = make_product("马克杯", price=3000)
    for when, product in (
        (moment(YESTERDAY, 9), lamp),
        (moment(YESTERDAY, 11, 45), pen),
        (moment(YESTERDAY, 20), cup),
        (moment(TODAY, 11), mug),
    ):
        with at(when):
            buy(make_buyer(), (sku(product), 1))
    visitor(YESTERDAY, "v1", 8)
    visitor(YESTERDAY, "v2", 21)
    visitor(TODAY, "v3", 10)
    with at(moment(TODAY, 11, 30)):
        aggregates.refresh()


def figures(key):
    return {m.key: (m.value, m.previous) for m in dashboard.overview(periods.preset(key))}


def test_today_compares_with_yesterday_up_to_the_last_refresh(shop):
    with at(moment(TODAY, 12, 10)):
        got = figures("today")
    assert got["gmv"] == (3000, 10000)  # not the ¥20 of 11:45 (after 11:30), nor the ¥50
    assert got["paid_orders"] == (1, 1)
    assert got["paying_buyers"] == (1, 1)
    assert got["avg_order_value"] == (3000, 10000)
    assert got["visitors"] == (1, 1)  # v2 came after 11:30
    assert got["conversion_bp"] == (10000, 10000)
    # 浏览量 is kept per visitor-day without times: nothing to compare it with.
    assert got["page_views"] == (2, None)


def test_yesterday_is_still_compared_whole(shop):
    with at(moment(TODAY, 12, 10)):
        got = figures("yesterday")
    assert got["gmv"] == (17000, 0)
    assert got["visitors"] == (2, 0)
    assert got["page_views"] == (4, 0)


def test_the_dashboard_says_up_to_when(shop):
    client = login(make_staff("boss", superuser=True))
    with at(moment(TODAY, 12, 10)):
        html = client.get("/backend/").content.decode()
    assert f"{TODAY:%Y-%m-%d} 截至 11:30 · 对比昨日同时段" in html
    assert re.search(r'data-metric="gmv".*?¥30.00.*?昨日同时段 ¥100.00<', html, re.S)
    assert re.search(r'data-metric="page_views".*?>不对比昨日同时段<', html, re.S)


def test_the_staff_api_gives_the_same_figures_and_says_up_to_when(shop):
    client = api_for(make_staff("boss", superuser=True))
    with at(moment(TODAY, 12, 10)):
        body = client.get("/staff/dashboard").json()
    gmv = next(m for m in body["metrics"] if m["key"] == "gmv")
    assert (gmv["value"], gmv["previous"], gmv["compared"]) == (3000, 10000, "昨日同时段")
    # (The clock in these tests runs on from 11:30 by the real time the refresh took.)
    stop = datetime.fromisoformat(body["previous_until"])
    assert timedelta(0) <= stop - moment(YESTERDAY, 11, 30) < timedelta(minutes=1)
    with at(moment(TODAY, 12, 10)):
        assert client.get("/staff/dashboard?range=yesterday").json()["previous_until"] is None
