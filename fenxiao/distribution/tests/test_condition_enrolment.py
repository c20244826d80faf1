"""满足条件 (SPEC: a buyer becomes a distributor when their received orders meet a condition):
when the merchant switches to it or changes the condition, every buyer whose orders already
meet it becomes a distributor and is told, not only those who buy again. Refunds do not
count, orders not yet received do not count, and nobody who has an account is touched."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution import tasks
from fenxiao.distribution.models import DistributionSettings, Distributor, DistributorStatus, JoinSource
from fenxiao.distribution.services import config, distributors, enrolment
from fenxiao.notices.models import Kind, Message
from fenxiao.testing import api_for, make_buyer, make_product

from .helpers import (
    bound_buyer,
    buy,
    configure,
    full_refund,
    make_distributor,
    receive,
    settings_data,
    ship,
    sku,
    staff_refund,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea():
    return make_product("明前龙井", price=20000)


@pytest.fixture
def cup():
    return make_product("茶杯", price=3000)


def received(buyer, product, quantity: int = 1):
    return receive(buy(buyer, (sku(product), quantity)))


def account(buyer) -> Distributor | None:
    return Distributor.objects.filter(user=buyer).first()


def told(*buyers) -> set[int]:
    """Which of `buyers` got the notice, which says they qualified (they never applied)."""
    notices = Message.objects.filter(kind=Kind.DISTRIBUTOR_APPROVED, user__in=buyers)
    assert {m.title for m in notices} <= {"您已成为分销商"}
    return set(notices.values_list("user_id", flat=True))


def silently(**changes):
    """The settings changed without queueing anything: the enrolment is run by the test."""
    DistributionSettings.objects.filter(pk=config.current().pk).update(**changes)


def test_switching_to_lifetime_spend_enrols_who_spent_enough_net_of_refunds_after_receipt(tea):
    recruiter = make_distributor()
    rich, returned, waiting = bound_buyer(recruiter), make_buyer(), make_buyer()
    received(rich, tea, 2)
    received(rich, tea, 1)  # ¥600 over two orders
    order = received(returned, tea, 3)
    # Two of the three returned after receipt: ¥200 kept.
    staff_refund(order, {"line_id": order.lines.get().pk, "quantity": 2})
    ship(buy(waiting, (sku(tea), 3)))  # ¥600 paid, not received yet
    assert not Distributor.objects.exclude(pk=recruiter.pk).exists()  # 申请审核 so far

    configure(enable_mode="condition", condition_kind="lifetime_spend", condition_amount=50000)

    made = account(rich)
    assert (made.status, made.source, made.parent) == (
        DistributorStatus.ACTIVE,
        JoinSource.CONDITION,
        recruiter,
    )
    assert made.activated_at is not None and made.totals is not None
    assert account(returned) is None and account(waiting) is None
    assert told(rich, returned, waiting) == {rich.pk}
    profile = api_for(rich).get("/distribution/profile").json()
    assert (profile["is_distributor"], profile["status"]) == (True, "active")
    assert enrolment.enrol_qualified() == 0  # a re-run changes nothing


def test_completed_orders_skip_one_refunded_in_full_and_a_changed_condition_enrols_again(tea):
    two, one_kept = make_buyer(), make_buyer()
    received(two, tea)
    received(two, tea)
    received(one_kept, tea)
    full_refund(received(one_kept, tea))  # received, then refunded in full: no purchase

    configure(enable_mode="condition", condition_kind="completed_orders", condition_orders=2)
    assert (account(two).status, account(one_kept)) == ("active", None)

    # The merchant lowers the bar: the save enrols who meets it now.
    configure(condition_orders=1)
    assert account(one_kept).status == "active"
    assert told(two, one_kept) == {two.pk, one_kept.pk}


def test_bought_products_counts_a_received_listed_product_not_refunded_in_full(tea, cup):
    tea_buyer, cup_buyer, tea_returned = make_buyer(), make_buyer(), make_buyer()
    receive(buy(tea_buyer, (sku(tea), 1), (sku(cup), 1)))
    received(cup_buyer, cup, 3)
    order = buy(tea_returned, (sku(tea), 1), (sku(cup), 1))
    staff_refund(order, {"line_id": order.lines.get(product=tea).pk})  # the tea, before shipping
    receive(order)

    configure(enable_mode="condition", condition_kind="bought_products", condition_products=[tea])

    assert account(tea_buyer).status == "active"
    assert account(cup_buyer) is None and account(tea_returned) is None


def test_those_with_an_account_stay_as_they_are_and_a_rejected_one_may_apply(tea):
    configure(enable_mode="apply", review_mode="manual", require_real_name=False)
    pending, rejected = make_buyer(), make_buyer()
    pending_account = distributors.apply(pending)
    rejected_account = distributors.reject(distributors.apply(rejected), None, reason="资料不全")
    suspended = make_distributor(status=DistributorStatus.SUSPENDED)
    banned = make_distributor(status=DistributorStatus.BANNED)
    for buyer in (pending, rejected, suspended.user, banned.user):
        received(buyer, tea)

    configure(enable_mode="condition", condition_kind="completed_orders", condition_orders=1)

    states = [account(b).status for b in (pending, rejected, suspended.user, banned.user)]
    assert states == ["pending", "rejected", "suspended", "banned"]
    assert account(rejected).reject_reason == "资料不全"
    assert told(pending, rejected, suspended.user, banned.user) == set()
    # Staff's refusal is not undone by the shop; the applicant's own request, meeting the
    # condition, is let in (as `apply` lets one in).
    reply = api_for(rejected).post("/distribution/apply", {})
    assert reply.status_code == 201, reply.content
    rejected_account.refresh_from_db()
    assert rejected_account.status == "active"
    pending_account.refresh_from_db()
    assert pending_account.status == "pending"


def test_chunks_cover_every_buyer_and_a_rerun_makes_nothing(tea):
    buyers = [make_buyer() for _ in range(10)]
    qualified = buyers[::2] + [buyers[-1]]  # 6 in key order, across chunks of 3
    for buyer in qualified:
        received(buyer, tea)
    silently(enable_mode="condition", condition_kind="completed_orders", condition_orders=1)

    assert enrolment.enrol_qualified(chunk=3) == 6
    assert set(Distributor.objects.values_list("user_id", flat=True)) == {b.pk for b in qualified}
    assert told(*buyers) == {b.pk for b in qualified}
    assert enrolment.enrol_qualified(chunk=3) == 0
    assert Message.objects.filter(kind=Kind.DISTRIBUTOR_APPROVED).count() == 6


def test_the_hourly_run_finishes_what_a_switch_left(tea):
    buyer = make_buyer()
    received(buyer, tea)
    silently(enable_mode="condition", condition_kind="completed_orders", condition_orders=1)
    tasks.enrol_everyone_hourly.call_local()
    assert account(buyer).status == "active"


def test_nothing_runs_outside_condition_mode(tea):
    buyer = make_buyer()
    received(buyer, tea)
    silently(enable_mode="apply", condition_kind="completed_orders", condition_orders=1)
    assert enrolment.enrol_qualified() == 0
    assert account(buyer) is None


@pytest.mark.parametrize("kind", ["lifetime_spend", "completed_orders", "bought_products"])
def test_a_chunk_takes_the_same_statements_for_2_or_6_buyers_enrolled(kind, tea):
    config.current().condition_products.set([tea])
    counts = []
    for n in (2, 6):
        silently(enable_mode="apply")  # bought before the switch
        make_buyer()  # one who bought nothing, measured with the rest
        for _ in range(n):
            received(make_buyer(), tea)
        silently(enable_mode="condition", condition_kind=kind, condition_amount=10000, condition_orders=1)
        # The notices' deliveries go after commit, to the worker: not counted here.
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            assert enrolment.enrol_qualified(chunk=1000) == n
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_receipt_sweep_measures_its_buyers_together(tea):
    counts = []
    for n in (2, 6):
        silently(enable_mode="apply")
        buyers = [make_buyer() for _ in range(n)]
        for buyer in buyers:
            received(buyer, tea)
        # As the auto-complete sweep finds them: their orders just completed, under 满足条件.
        silently(enable_mode="condition", condition_kind="completed_orders", condition_orders=1)
        ids = {b.pk for b in buyers} | {make_buyer().pk}  # and one who has not qualified
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            assert distributors.check_condition_after_completions(ids) == n
        counts.append(len(queries))
        assert told(*buyers) == {b.pk for b in buyers}
    assert counts[0] == counts[1]


def test_switching_in_the_backend_enrols_those_who_qualify(boss, tea):
    from django.urls import reverse

    buyer = make_buyer()
    received(buyer, tea)
    reply = boss.post(
        reverse("admin:distribution_distributionsettings_change", args=[config.current().pk]),
        settings_data(enable_mode="condition", condition_kind="lifetime_spend", condition_amount="200.00"),
    )
    assert reply.status_code == 302
    assert account(buyer).source == JoinSource.CONDITION


def test_a_condition_every_buyer_meets_is_refused():
    from fenxiao.distribution.errors import SettingsInvalid

    make_buyer()
    for fields, words in (
        ({"condition_kind": "lifetime_spend", "condition_amount": 0}, "大于 0 的金额"),
        ({"condition_kind": "completed_orders", "condition_orders": 0}, "至少 1 笔"),
    ):
        with pytest.raises(SettingsInvalid) as refused:
            config.update_settings(None, enable_mode="condition", **fields)
        assert words in refused.value.message and "人人分销" in refused.value.message
    assert config.current().enable_mode != "condition"
    assert not Distributor.objects.exists()
    # The same figures are fine while another mode is chosen.
    config.update_settings(None, condition_kind="lifetime_spend", condition_amount=0)
