"""分销报表's rankings and 流量报表's 分销商带来的访问 link each distributor to their backend
page (team, commission, withdrawals), as 商品销售 links a product and 门店报表 a store, for a
viewer who may open it; the name read as plain text, so the top seller of the month could
not be followed from the ranking. Files are unchanged: no link column."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fenxiao.analytics.models import DistributorDay, TrafficDay
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.testing import make_staff

pytestmark = pytest.mark.django_db

REPORTS = ["analytics.view_distribution_report", "analytics.view_traffic_report"]


@pytest.fixture
def distributor_page():
    star = make_distributor()
    day = timezone.localdate() - timedelta(days=1)
    DistributorDay.objects.create(
        day=day, distributor_id=star.pk, orders=3, sales=30000, commission_accrued=3000
    )
    TrafficDay.objects.create(day=day, source="link", distributor_id=star.pk, visits=5, page_views=9)
    return reverse("admin:distribution_distributor_change", args=[star.pk]), star.referral_code


def html(user, key) -> str:
    client = Client()
    client.force_login(user)
    reply = client.get(reverse("analytics_report", args=[key]), {"range": "7d"})
    assert reply.status_code == 200
    return reply.content.decode()


def test_rankings_link_a_distributor_to_their_page(distributor_page):
    url, code = distributor_page
    viewer = make_staff(perms=[*REPORTS, "distribution.view_distributor"])
    assert html(viewer, "distribution").count(f'href="{url}"') == 2  # sales and commission rankings
    assert html(viewer, "traffic").count(f'href="{url}"') == 1


def test_without_the_distributor_pages_the_names_stay_plain(distributor_page):
    url, code = distributor_page
    viewer = make_staff(perms=REPORTS)
    for key in ("distribution", "traffic"):
        page = html(viewer, key)
        assert code in page and url not in page


def test_the_files_carry_no_link(distributor_page):
    url, _code = distributor_page
    client = Client()
    client.force_login(make_staff(superuser=True))
    export = client.get(
        "/backend/data/distribution/export/csv/", {"range": "7d", "report": "distributor-sales-ranking"}
    )
    assert export.status_code == 200 and url not in export.content.decode("utf-8")


def test_ranking_bars_are_named_by_the_figure_they_draw(distributor_page):
    """The legend and tooltips read 净销售额 / 产生佣金: they read the section's title
    (分销商销售排行: ¥300.00), which did not say the bar was net of refunds."""
    from fenxiao.analytics.services import periods, report_distribution

    built = {r.key: r for r in report_distribution.build(periods.preset("7d"), {"limit": 20})}
    sales = built["distributor-sales-ranking"].chart.datasets
    commission = built["distributor-commission-ranking"].chart.datasets
    assert [(d.label, d.values) for d in sales] == [("净销售额", [30000])]
    assert [(d.label, d.values) for d in commission] == [("产生佣金", [3000])]
