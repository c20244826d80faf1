"""/r/<code> is the hottest URL: a signed-out visit is one lookup and one upsert at most."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.analytics.services import tracking
from fenxiao.distribution.models import Touch, TouchDecision
from fenxiao.distribution.services import config, distributors
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.testing import make_buyer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def traffic_gathered(settings):
    """Page-view counts wait in memory as in production (analytics tracking), so the
    queries counted here are the referral link's own."""
    settings.TRAFFIC_FLUSH_SECONDS = 60
    tracking.batch.reset(quiet=False)
    yield
    tracking.batch.reset()


def visit_queries(browser, code, **query) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        reply = browser.get(f"/r/{code}", query)
    assert reply.status_code == 302
    return [q["sql"] for q in ctx.captured_queries]


def test_a_signed_out_visit_is_one_lookup_and_one_write_then_just_the_write():
    distributor = make_distributor()
    distributors._ids_by_code.clear()
    first = visit_queries(Client(), distributor.referral_code.lower(), to="/products/1/")
    assert len(first) == 2, first  # the code (then cached), the upsert
    again = visit_queries(Client(), distributor.referral_code, to="/products/2/", src="qr")
    assert len(again) == 1, again
    assert (
        Client()
        .get(f"/r/{distributor.referral_code}")
        .cookies["fx_ref"]
        .value.startswith(f"{distributor.referral_code}:link:%2F:")
    )
    touch = Touch.objects.get()
    assert (touch.hits, touch.target, touch.source) == (3, "/products/1/", "link")
    assert touch.decision == TouchDecision.PENDING_LOGIN


def test_unknown_codes_are_not_remembered():
    distributors._ids_by_code.clear()
    for code in ("NOPE0001", "NOPE0002", "x" * 40, ""):
        assert len(visit_queries(Client(), code or "%20")) <= 1
    assert distributors._ids_by_code == {}
    assert not Touch.objects.exists()


def test_a_signed_in_visit_is_bounded_whatever_the_history():
    config.current()
    distributor = make_distributor()
    buyer = make_buyer()
    browser = Client()
    browser.force_login(buyer)
    first = visit_queries(browser, distributor.referral_code)
    for _ in range(5):
        visit_queries(browser, distributor.referral_code)
    later = visit_queries(browser, distributor.referral_code)
    assert len(first) <= 11, first  # session, user, distributor, settings, decision and rows
    assert len(later) <= len(first), later
    assert Touch.objects.filter(buyer=buyer).count() == 7


def test_a_status_change_is_seen_at_once_although_the_code_is_remembered():
    from fenxiao.distribution.models import DistributorStatus

    distributor = make_distributor()
    Client().get(f"/r/{distributor.referral_code}")  # remembered now
    distributors.set_status(distributor, None, DistributorStatus.SUSPENDED, reason="测试", decision="void")
    buyer = make_buyer()
    browser = Client()
    browser.force_login(buyer)
    browser.get(f"/r/{distributor.referral_code}")
    touch = Touch.objects.get(buyer=buyer)
    assert (touch.decision, touch.rule) == (TouchDecision.REFUSED, "inactive")
