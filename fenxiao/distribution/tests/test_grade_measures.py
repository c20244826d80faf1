"""What counts towards a grade's upgrade conditions and the 完成订单数 condition.

An upgrade is permanent (upgrade only, never down automatically), so it is measured on
orders the buyer has received and kept: an order paid but not yet received may still be
cancelled with a full refund, and one refunded in full is no sale at all. A partial
refund counts what the buyer kept."""

import pytest
from django.urls import reverse

from fenxiao.distribution.models import DistributionSettings, Distributor, DistributorGrade
from fenxiao.distribution.services import config, distributors, grades
from fenxiao.orders.services import lifecycle
from fenxiao.testing import api_for, make_buyer, make_product

from .helpers import bound_buyer, buy, full_refund, make_distributor, receive, sku, staff_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def normal():
    return config.save_grade(DistributorGrade(name="普通", weight=1, is_default=True))


def senior(**conditions) -> DistributorGrade:
    return config.save_grade(DistributorGrade(name="高级", weight=2, logic="any", **conditions))


def grade_of(distributor: Distributor) -> str:
    distributor.refresh_from_db()
    return distributor.grade.name


def test_a_received_order_refunded_in_full_is_not_a_completed_order(normal, lamp):
    senior(min_own_orders=2, min_team_orders=2)
    a = make_distributor()
    b = make_distributor(parent=a)
    kept = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    returned = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    full_refund(returned)  # after receipt, within the after-sale window
    returned.refresh_from_db()
    assert (kept.status, returned.status) == ("completed", "completed")

    measured = grades.metrics([a.pk, b.pk])
    assert measured[b.pk]["min_own_orders"] == 1
    assert measured[a.pk]["min_team_orders"] == 1
    assert grades.upgrade() == []
    assert (grade_of(a), grade_of(b)) == ("普通", "普通")

    # A partial refund leaves an order the buyer kept: it counts, for what they kept.
    partly = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    staff_refund(partly, {"line_id": partly.lines.get().pk, "amount": 4000})
    measured = grades.metrics([b.pk])[b.pk]
    assert (measured["min_own_orders"], measured["min_own_sales"]) == (2, 10000 + 6000)
    assert {d.pk for d in grades.upgrade()} == {a.pk, b.pk}


def test_sales_count_once_received_so_a_cancelled_order_never_buys_a_grade(normal, boss):
    senior(min_own_sales=500000, min_single_order=500000, min_team_sales=500000)
    a = make_distributor()
    b = make_distributor(parent=a)
    watch = make_product("手表", price=500000)
    friend = bound_buyer(b)
    order = buy(friend, (sku(watch), 1))  # paid, not shipped: the buyer may still cancel

    measured = grades.metrics([a.pk, b.pk])
    assert (measured[b.pk]["min_own_sales"], measured[b.pk]["min_single_order"]) == (0, 0)
    assert measured[a.pk]["min_team_sales"] == 0
    # The merchant's 立即评估升级 upgrades nobody on it.
    reply = boss.post(reverse("admin:distribution_distributorgrade_evaluate_upgrades"), {"_confirm": "1"})
    assert reply.status_code == 302
    assert (grade_of(a), grade_of(b)) == ("普通", "普通")

    lifecycle.cancel(order, friend, reason="不想要了")  # cancelled with a full refund
    assert grades.upgrade() == []

    # Bought again and received: now it is a sale that counts, at once.
    receive(buy(friend, (sku(watch), 1)))
    measured = grades.metrics([a.pk, b.pk])
    assert (measured[b.pk]["min_own_sales"], measured[b.pk]["min_single_order"]) == (500000, 500000)
    assert measured[a.pk]["min_team_sales"] == 500000
    reply = boss.post(reverse("admin:distribution_distributorgrade_evaluate_upgrades"), {"_confirm": "1"})
    assert reply.status_code == 302
    assert (grade_of(a), grade_of(b)) == ("高级", "高级")


def test_the_completed_orders_condition_does_not_count_an_order_refunded_in_full(lamp):
    config.update_settings(
        None, enable_mode="condition", condition_kind="completed_orders", condition_orders=2
    )
    buyer = make_buyer()
    returned = receive(buy(buyer, (sku(lamp), 1)))
    full_refund(returned)  # received, then returned within the after-sale window
    receive(buy(buyer, (sku(lamp), 1)))  # the receipt that checks the condition
    assert not Distributor.objects.filter(user=buyer).exists()
    cfg = DistributionSettings.objects.get()
    assert distributors.meets_condition(buyer, cfg) is False

    reply = api_for(buyer).post("/distribution/apply", {})
    assert reply.status_code == 409
    assert reply.json()["message"] == "您暂未满足成为分销商的条件"
    assert not Distributor.objects.filter(user=buyer).exists()

    # A second order received and kept: two completed orders, and the buyer becomes one.
    receive(buy(buyer, (sku(lamp), 1)))
    assert Distributor.objects.get(user=buyer).status == "active"
