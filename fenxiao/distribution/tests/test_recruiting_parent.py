"""SPEC: "A distributor recruited through another distributor's link gets that distributor as
parent; a bound buyer who becomes a distributor gets their binding's distributor as parent."

仅绑定新客户 refuses to bind a buyer who has paid before, so such a customer opening a
distributor's link is not bound, but was still recruited through that link: when they
become a distributor, the link's distributor is their parent. A binding in force still
decides first, and a link that could not bind for another reason (their own link, a
suspended distributor) recruits nobody."""

import pytest
from django.test import Client

from fenxiao.distribution.models import DistributionSettings, Distributor
from fenxiao.distribution.services import distributors
from fenxiao.testing import api_for, make_buyer

from .helpers import buy, configure, make_distributor, sku, suspend, visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(lamp):
    """A customer who has paid before: 仅绑定新客户 will not bind them."""
    buyer = make_buyer(phone="13700000009")
    buy(buyer, (sku(lamp), 1))
    return buyer


def test_an_existing_customer_recruited_through_a_link_gets_its_distributor_as_parent(customer):
    configure(new_buyers_only=True, enable_mode="apply", review_mode="auto", require_real_name=False)
    x, y = make_distributor(), make_distributor()
    visit(customer, x)
    touch = visit(customer, y)  # the last link they came through
    assert (touch.decision, touch.rule) == ("refused", "new_buyers_only")

    reply = api_for(customer).post("/distribution/apply", {})
    assert reply.status_code == 201, reply.content
    assert Distributor.objects.get(user=customer).parent == y
    assert reply.json()["parent_name"] == y.user.display_name


def test_a_link_opened_signed_out_recruits_once_the_customer_signs_in(customer):
    configure(new_buyers_only=True, enable_mode="apply", review_mode="auto", require_real_name=False)
    y = make_distributor()
    browser = Client()
    browser.get(f"/r/{y.referral_code}")
    reply = browser.post(
        "/api/v1/auth/login",
        {"phone": "13700000009", "password": "Buyer#2026"},
        content_type="application/json",
    )
    assert reply.status_code == 200
    assert distributors.apply(customer).parent == y


def test_a_binding_in_force_decides_before_a_later_refused_link(lamp):
    configure(bind_mode="first", new_buyers_only=True, enable_mode="apply", review_mode="auto")
    x, y = make_distributor(), make_distributor()
    buyer = make_buyer()
    visit(buyer, x)  # bound to x for good
    buy(buyer, (sku(lamp), 1))
    assert visit(buyer, y).decision == "kept"
    assert distributors.apply(buyer, real_name="张三").parent == x


def test_a_link_refused_for_another_reason_recruits_nobody(customer):
    configure(new_buyers_only=True, enable_mode="apply", review_mode="auto", require_real_name=False)
    y = make_distributor()
    suspend(y)
    assert visit(customer, y).rule == "inactive"
    assert distributors.apply(customer).parent is None


def test_everyone_enrolment_gives_the_recruiting_link_as_parent_too(customer):
    configure(new_buyers_only=True)
    y = make_distributor()
    assert visit(customer, y).rule == "new_buyers_only"
    DistributionSettings.objects.update(enable_mode="everyone")
    distributors.enrol_everyone()
    assert Distributor.objects.get(user=customer).parent == y
