"""Signed-out visits through /r/<code> cannot grow the database without limit."""

import pytest
from django.test import Client

from fenxiao.distribution.models import CustomerBinding, Touch, TouchDecision
from fenxiao.distribution.tests.helpers import make_distributor, visit
from fenxiao.testing import make_buyer

pytestmark = pytest.mark.django_db


def test_repeat_anonymous_visits_from_one_address_are_one_row_with_a_count():
    distributor = make_distributor()
    browser = Client()
    for i in range(60):
        reply = browser.get(
            f"/r/{distributor.referral_code}",
            {"to": f"/products/{i}/", "src": ["link", "qr", "poster"][i % 3]},
        )
        assert reply.status_code == 302
        assert reply.cookies["fx_ref"].value.startswith(distributor.referral_code)
    touch = Touch.objects.get()
    assert touch.hits == 60
    assert touch.decision == TouchDecision.PENDING_LOGIN
    assert touch.buyer is None
    assert touch.target == "/products/0/"  # the first landing page is kept


def test_another_address_or_another_distributor_gets_its_own_row():
    first, second = make_distributor(), make_distributor()
    here, there = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(3):
        here.get(f"/r/{first.referral_code}")
        there.get(f"/r/{first.referral_code}")
        here.get(f"/r/{second.referral_code}")
    assert sorted(Touch.objects.values_list("hits", flat=True)) == [3, 3, 3]
    assert "10.0.0.1" not in str(list(Touch.objects.values_list("visitor", flat=True)))


def test_signed_in_visits_are_still_decided_and_recorded_one_by_one():
    distributor = make_distributor()
    buyer = make_buyer()
    assert visit(buyer, distributor).decision == TouchDecision.BOUND
    assert visit(buyer, distributor).decision in (TouchDecision.KEPT, TouchDecision.RENEWED)
    assert Touch.objects.filter(buyer=buyer).count() == 2
    assert CustomerBinding.objects.get(buyer=buyer).distributor == distributor


def test_the_cookie_still_binds_after_sign_in():
    distributor = make_distributor()
    make_buyer("13900000077", password="Secret#2026")
    browser = Client()
    browser.get(f"/r/{distributor.referral_code}")
    browser.get(f"/r/{distributor.referral_code}")
    browser.post("/login/", {"phone": "13900000077", "password": "Secret#2026"})
    assert CustomerBinding.objects.get(buyer__phone="13900000077").distributor == distributor
    assert Touch.objects.filter(buyer__isnull=True).get().hits == 2
