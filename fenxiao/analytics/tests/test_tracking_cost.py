"""Tracking is cheap on the hot path: counts wait in memory, one statement per table writes them."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.analytics.models import ProductView, VisitorDay
from fenxiao.analytics.services import tracking
from fenxiao.distribution.services import visits
from fenxiao.testing import make_buyer, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def batching(settings):
    """Batches of a minute, as in production; the first write after a quiet spell is due."""
    settings.TRAFFIC_FLUSH_SECONDS = 60
    tracking.batch.reset(quiet=True)
    yield settings
    tracking.batch.reset()


def queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_a_page_view_while_counts_are_gathered_costs_no_query(batching):
    product = make_product()
    buyer = make_buyer()
    client = Client()
    client.force_login(buyer)
    url = f"/products/{product.pk}/"
    client.get(url)  # the first view after a quiet spell is written at once
    batching.TRAFFIC_TRACKING = False
    untracked = queries(client, url)
    batching.TRAFFIC_TRACKING = True
    tracked = [queries(client, url) for _ in range(3)]
    # As many queries as with tracking off, and none of them about traffic.
    assert [len(t) for t in tracked] == [len(untracked)] * 3
    assert not [sql for t in tracked for sql in t if "analytics_" in sql]
    assert len(tracking.batch.pending) == 2  # the visitor's day and the buyer's trail row
    assert (VisitorDay.objects.get().page_views, ProductView.objects.get().views) == (1, 1)
    # One statement per table adds the gathered counts.
    with CaptureQueriesContext(connection) as written:
        assert tracking.flush() == 2
    assert len(written.captured_queries) == 2
    row = VisitorDay.objects.get()
    assert (row.page_views, row.product_views, ProductView.objects.get().views) == (4, 4, 4)


def test_many_visitors_are_written_in_two_statements(batching):
    products = [make_product() for _ in range(3)]
    buyers = [make_buyer() for _ in range(4)]
    tracking.batch.last_write += 3600  # mid-interval: everything is gathered
    for buyer in buyers:
        for product in products:
            tracking.record(
                tracking.buyer_visitor(buyer.pk),
                source="direct",
                buyer_id=buyer.pk,
                page_views=1,
                product_id=product.pk,
            )
        tracking.record(tracking.new_visitor(), source="search", page_views=1)
    with CaptureQueriesContext(connection) as written:
        assert tracking.flush() == 4 + 4 + 12
    assert len(written.captured_queries) == 2
    assert VisitorDay.objects.count() == 8 and ProductView.objects.count() == 12
    assert sum(VisitorDay.objects.values_list("page_views", flat=True)) == 16


def test_a_full_buffer_is_written_before_the_interval_ends(batching, monkeypatch):
    monkeypatch.setattr(tracking.batch, "max_pending", 3)
    tracking.batch.last_write += 3600
    for _ in range(2):
        tracking.record(tracking.new_visitor(), source="direct", page_views=1)
    assert not VisitorDay.objects.exists()
    tracking.record(tracking.new_visitor(), source="direct", page_views=1)
    assert VisitorDay.objects.count() == 3 and tracking.batch.pending == {}


def test_the_two_buffers_are_separate(batching):
    """Referral visits and traffic share the buffering code, not their rows."""
    tracking.batch.last_write += 3600
    tracking.record(tracking.new_visitor(), source="direct", page_views=1)
    assert visits.flush() == 0
    assert tracking.flush() == 1


def test_a_page_that_does_not_need_the_user_learns_the_buyer_once(batching):
    """The home page does not load the signed-in user; counting it does, once a session."""
    buyer = make_buyer()
    client = Client()
    client.force_login(buyer)
    batching.TRAFFIC_TRACKING = False
    untracked = len(queries(client, "/"))
    batching.TRAFFIC_TRACKING = True
    first = queries(client, "/")  # the buyer is looked up, the count written (quiet spell)
    later = [len(queries(client, "/")) for _ in range(3)]
    assert later == [untracked] * 3
    assert len(first) > untracked
    tracking.flush()
    row = VisitorDay.objects.get()
    assert (row.buyer_id, row.page_views) == (buyer.pk, 4)


def test_the_product_page_query_budget_includes_its_tracking(django_assert_max_num_queries):
    """Counts written at once (interval 0, the suite's setting): still a fixed number of
    queries, however many products, views and days the buyer has."""
    buyer = make_buyer()
    products = [make_product(specs_list=[{"色": str(n)} for n in range(4)]) for _ in range(5)]
    client = Client()
    client.force_login(buyer)
    for product in products:
        client.get(f"/products/{product.pk}/")
    with CaptureQueriesContext(connection) as first:
        client.get(f"/products/{products[0].pk}/")
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(f"/products/{products[-1].pk}/")
    with django_assert_max_num_queries(16):
        assert client.get(f"/products/{products[1].pk}/").status_code == 200
    assert ProductView.objects.get(product=products[1]).views == 2
