"""满足条件 enrolment under concurrency (PostgreSQL): two runs at once (a settings save's
task and the hourly one), or a run beside the buyers' own applications, give each buyer
who qualifies one account and one notice."""

import pytest

from fenxiao.distribution.errors import ApplicationNotAllowed
from fenxiao.distribution.models import DistributionSettings, Distributor
from fenxiao.distribution.services import config, distributors, enrolment
from fenxiao.notices.models import Kind, Message
from fenxiao.testing import make_buyer, make_product, postgres_only_marks, run_together

from .helpers import buy, receive, sku

pytestmark = postgres_only_marks()


def qualified_buyers(n: int) -> list:
    lamp = make_product("台灯", price=5000)
    buyers = [make_buyer() for _ in range(n)]
    for buyer in buyers:
        receive(buy(buyer, (sku(lamp), 1)))  # under 申请审核: nobody enrolled yet
    DistributionSettings.objects.filter(pk=config.current().pk).update(
        enable_mode="condition", condition_kind="completed_orders", condition_orders=1
    )
    return buyers


def assert_one_each(buyers) -> None:
    ids = {b.pk for b in buyers}
    assert sorted(Distributor.objects.values_list("user_id", flat=True)) == sorted(ids)
    assert set(Distributor.objects.values_list("status", flat=True)) == {"active"}
    told = Message.objects.filter(kind=Kind.DISTRIBUTOR_APPROVED).values_list("user_id", flat=True)
    assert sorted(told) == sorted(ids)


@pytest.mark.parametrize("_round", range(3))
def test_two_runs_at_once_make_each_account_once(_round):
    buyers = qualified_buyers(8)
    results = run_together(2, lambda i: enrolment.enrol_qualified(chunk=3))
    assert not any(isinstance(r, BaseException) for r in results), results
    assert sum(results) == 8
    assert_one_each(buyers)


def test_a_run_beside_the_buyers_own_applications():
    buyers = qualified_buyers(6)

    def apply(buyer) -> str:
        try:
            return distributors.apply(buyer).status
        except ApplicationNotAllowed as refused:  # the run made them one first
            return refused.message

    def work(i):
        if i == 0:
            return enrolment.enrol_qualified(chunk=2)
        return [apply(b) for b in buyers[::-1]]

    made, applied = run_together(2, work)
    assert not isinstance(made, BaseException) and not isinstance(applied, BaseException), (made, applied)
    assert set(applied) <= {"active", "您已提交申请或已是分销商"}
    # One account each, whoever made it first; the run tells only those it made, once.
    assert sorted(Distributor.objects.values_list("user_id", flat=True)) == sorted(b.pk for b in buyers)
    assert Message.objects.filter(kind=Kind.DISTRIBUTOR_APPROVED).count() == made
