"""A report period that includes today holds today so far, while the period it is compared
with is made of whole days: the page says so (今日截至 23:32，尚未结束；上一周期按全天计).
It did not: at 10:00 the sales report's 今日 read ↓ 80 % against the whole of yesterday,
with nothing telling a merchant the day was still running (经营概况 compares 今日 with
昨日同时段; the report pages, which read whole-day aggregates, now say what they compare)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.analytics.models import ReportWatermark
from fenxiao.testing import in_english, login, make_staff

pytestmark = pytest.mark.django_db

NOTE = re.compile(r'id="period-running">今日截至 (\d\d:\d\d)，尚未结束；上一周期按全天计<')


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def test_a_period_running_today_says_it_runs_to_the_last_refresh(boss):
    at = timezone.now() - timedelta(minutes=3)
    ReportWatermark.objects.update_or_create(name=ReportWatermark.REPORTS, defaults={"refreshed_at": at})
    today = timezone.localdate()
    for url in (
        "/backend/data/sales/?range=today",
        f"/backend/data/distribution/?start={today - timedelta(days=6)}&end={today}",
        "/backend/data/stores/?range=today",
    ):
        html = boss.get(url).content.decode()
        assert NOTE.search(html).group(1) == f"{timezone.localtime(at):%H:%M}", url


def test_ended_periods_say_nothing_of_it(boss):
    for url in ("/backend/data/sales/?range=yesterday", "/backend/data/traffic/?range=7d"):
        assert "period-running" not in boss.get(url).content.decode(), url


def test_in_english(boss):
    html = in_english(boss).get("/backend/data/sales/?range=today").content.decode()
    assert re.search(r'id="period-running">Today up to \d\d:\d\d, not over yet; the previous period', html)
