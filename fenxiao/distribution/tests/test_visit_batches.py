"""Signed-out referral visits are counted in memory and written in batches."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.analytics.services import tracking
from fenxiao.distribution.models import Touch
from fenxiao.distribution.services import binding, visits
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.testing import postgres_only_marks

HERE, THERE = binding.visitor_key("10.0.0.1"), binding.visitor_key("10.0.0.2")


@pytest.fixture
def batching(settings):
    """Batches of a minute; the process starts with nothing pending and a quiet past."""
    settings.REFERRAL_VISIT_FLUSH_SECONDS = 60
    # The page-view counts of the same requests are batched too (analytics tracking).
    settings.TRAFFIC_FLUSH_SECONDS = 60
    visits.batch.reset(quiet=True)
    tracking.batch.reset(quiet=True)
    yield settings
    visits.batch.reset()
    tracking.batch.reset()


def hits() -> dict[str, int]:
    return dict(Touch.objects.values_list("visitor", "hits"))


@pytest.mark.django_db
def test_a_busy_process_writes_its_visits_together_adding_the_hits(batching):
    distributor = make_distributor()
    # The first visit after a quiet spell is written at once…
    visits.count(distributor.pk, "qr", target="/p/1/", visitor=HERE)
    assert hits() == {HERE: 1}
    # …the next ones, within the interval, wait in memory: no query at all.
    with CaptureQueriesContext(connection) as waiting:
        for i in range(5):
            visits.count(distributor.pk, "link", target=f"/p/{i}/", visitor=HERE if i < 3 else THERE)
    assert waiting.captured_queries == []
    assert hits() == {HERE: 1}
    # One statement writes them all, adding to the row already there.
    with CaptureQueriesContext(connection) as written:
        assert visits.flush() == 2
    assert len(written.captured_queries) == 1
    assert hits() == {HERE: 4, THERE: 2}
    # The day's first source and landing page stay; the last visit's time moves.
    row = Touch.objects.get(visitor=HERE)
    assert (row.source, row.target, row.buyer_id, row.decision) == ("qr", "/p/1/", None, "pending_login")
    assert visits.flush() == 0


@pytest.mark.django_db
def test_a_full_batch_is_written_before_the_interval_ends(batching, monkeypatch):
    monkeypatch.setattr(visits.batch, "max_pending", 3)
    distributor = make_distributor()
    visits.count(distributor.pk, "link", visitor=binding.visitor_key("10.0.0.9"))  # written: quiet
    for n in range(3):
        visits.count(distributor.pk, "link", visitor=binding.visitor_key(f"10.0.1.{n}"))
    assert Touch.objects.count() == 4
    assert visits.batch.pending == {}


@pytest.mark.django_db
def test_the_referral_link_answers_without_a_query_while_visits_are_gathered(batching, client):
    code = make_distributor().referral_code
    client.get(f"/r/{code}?src=poster")  # the code is remembered, the visit written
    with CaptureQueriesContext(connection) as gathered:
        for _ in range(3):
            reply = client.get(f"/r/{code}?src=poster&to=/p/7/")
            assert reply.status_code == 302 and reply["Location"] == "/p/7/"
            assert reply.cookies["fx_ref"].value.startswith(f"{code}:poster:%2Fp%2F7%2F:")
    assert gathered.captured_queries == []
    visits.flush()
    assert list(Touch.objects.values_list("source", "hits")) == [("poster", 4)]


def postgres_only(test):
    for mark in postgres_only_marks("a timer thread sees committed rows only"):
        test = mark(test)
    return test


@postgres_only
def test_a_quiet_process_writes_what_it_gathered_when_the_interval_ends(batching):
    batching.REFERRAL_VISIT_FLUSH_SECONDS = 0.3
    distributor = make_distributor()
    visits.count(distributor.pk, "link", visitor=HERE)  # written at once
    visits.count(distributor.pk, "link", visitor=HERE)  # gathered, and a timer set
    assert hits() == {HERE: 1}
    deadline = time.monotonic() + 10
    while hits() != {HERE: 2} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hits() == {HERE: 2}
