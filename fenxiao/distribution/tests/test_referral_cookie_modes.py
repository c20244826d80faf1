"""Before sign-in the referral cookie follows the bind mode: the link that sign-in decides on
is the one a binding made at the first visit would have kept (首次绑定 for good, 有效期 for its
days, 最新链接优先 for its protection), not simply the last one opened."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution.models import Touch, TouchDecision
from fenxiao.distribution.views import REFERRAL_COOKIE
from fenxiao.testing import make_buyer

from .helpers import configure, current_distributor, make_distributor, suspend, travel

pytestmark = pytest.mark.django_db

PHONE = "13700000031"


def signs_in(browser: Client):
    reply = browser.post(
        "/api/v1/auth/login", {"phone": PHONE, "password": "Buyer#2026"}, content_type="application/json"
    )
    assert reply.status_code == 200, reply.content


def opened(browser: Client, *distributors, after: timedelta = timedelta(0)):
    with travel(after):
        for distributor in distributors:
            assert browser.get(f"/r/{distributor.referral_code}").status_code == 302


def test_first_mode_the_first_link_opened_signed_out_binds():
    configure(bind_mode="first")
    a, b = make_distributor(), make_distributor()
    buyer = make_buyer(phone=PHONE)
    browser = Client()
    opened(browser, a)
    opened(browser, b, after=timedelta(days=20))
    signs_in(browser)
    assert current_distributor(buyer) == a
    # b's visit is counted all the same (推广访问记录, 待登录).
    assert Touch.objects.get(distributor=b, buyer=None).decision == TouchDecision.PENDING_LOGIN


def test_first_mode_a_referral_whose_distributor_was_suspended_gives_way():
    configure(bind_mode="first")
    a, b = make_distributor(), make_distributor()
    buyer = make_buyer(phone=PHONE)
    browser = Client()
    opened(browser, a)
    suspend(a)
    opened(browser, b)
    signs_in(browser)
    assert current_distributor(buyer) == b


@pytest.mark.parametrize(("days", "bound_to"), [(6, "a"), (8, "b")])
def test_expiring_mode_the_first_link_holds_for_the_binding_days(days, bound_to):
    configure(bind_mode="expiring", bind_days=7)
    people = {"a": make_distributor(), "b": make_distributor()}
    buyer = make_buyer(phone=PHONE)
    browser = Client()
    opened(browser, people["a"])
    opened(browser, people["b"], after=timedelta(days=days))
    with travel(timedelta(days=days)):
        signs_in(browser)
        assert current_distributor(buyer) == people[bound_to]


@pytest.mark.parametrize(("protect_days", "days", "bound_to"), [(3, 2, "a"), (3, 4, "b"), (0, 0, "b")])
def test_latest_mode_the_newest_link_wins_outside_the_protection(protect_days, days, bound_to):
    configure(bind_mode="latest", protect_days=protect_days)
    people = {"a": make_distributor(), "b": make_distributor()}
    buyer = make_buyer(phone=PHONE)
    browser = Client()
    opened(browser, people["a"])
    opened(browser, people["b"], after=timedelta(days=days))
    signs_in(browser)
    assert current_distributor(buyer) == people[bound_to]


def test_the_same_distributors_links_again_keep_when_the_referral_began():
    configure(bind_mode="latest", protect_days=3)
    a, b = make_distributor(), make_distributor()
    buyer = make_buyer(phone=PHONE)
    browser = Client()
    opened(browser, a)
    began = browser.cookies[REFERRAL_COOKIE].value.rsplit(":", 1)[1]
    opened(browser, a, after=timedelta(days=2))
    assert browser.cookies[REFERRAL_COOKIE].value.rsplit(":", 1)[1] == began
    # Four days after the first visit the protection has run out, whatever came between.
    opened(browser, b, after=timedelta(days=4))
    signs_in(browser)
    assert current_distributor(buyer) == b


@pytest.mark.parametrize(("mode", "bound_to"), [("first", "a"), ("latest", "b")])
def test_a_cookie_from_before_it_kept_its_time(mode, bound_to):
    configure(bind_mode=mode, protect_days=7)
    people = {"a": make_distributor(), "b": make_distributor()}
    buyer = make_buyer(phone=PHONE)
    browser = Client()
    browser.cookies[REFERRAL_COOKIE] = f"{people['a'].referral_code}:poster:%2F"
    opened(browser, people["b"])
    signs_in(browser)
    assert current_distributor(buyer) == people[bound_to]


def test_another_distributors_link_costs_a_fixed_number_of_queries():
    configure(bind_mode="first")
    a, b = make_distributor(), make_distributor()
    browser = Client()
    opened(browser, a, b)  # both codes are remembered
    with CaptureQueriesContext(connection) as queries:
        opened(browser, b)
    # The earlier distributor (is it still active?) and the settings, beside what any visit
    # costs: its count (one upsert, or none when batched) and the traffic day's.
    assert len(queries) <= 4, [q["sql"] for q in queries.captured_queries]
