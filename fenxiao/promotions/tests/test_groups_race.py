"""Group buy under real concurrency (PostgreSQL, threads): two sweeps at once refund every
paid member exactly once, and a sweep racing the last member's payment ends either in a
group that ships or in everyone refunded — never in between."""

from fenxiao.orders.models import AfterSale, Order
from fenxiao.payments.models import Refund
from fenxiao.promotions.models import GroupBuy, GroupMember
from fenxiao.promotions.services import group_failures
from fenxiao.testing import pay_in_sandbox, postgres_only_marks, run_together

from .test_groups import assert_refunded_once, failed_group_of

pytestmark = postgres_only_marks()


def test_two_sweeps_at_once_refund_every_paid_member_exactly_once():
    _, group, orders = failed_group_of(8, paid=6)

    results = run_together(2, lambda i: group_failures.sweep(chunk_size=3))

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r.failed for r in results) == 1
    assert sum(r.refunded for r in results) == 6
    assert sum(r.cancelled for r in results) == 2
    for order in orders[:6]:
        assert_refunded_once(order)
    for order in orders[6:]:
        order.refresh_from_db()
        assert order.status == Order.Status.CANCELLED and order.paid_amount == 0
    assert GroupBuy.objects.get(pk=group.pk).status == "failed"
    assert Refund.objects.count() == AfterSale.objects.count() == 6


def test_a_sweep_racing_the_last_payment_never_leaves_a_member_in_between():
    _, group, orders = failed_group_of(3, paid=2)
    GroupBuy.objects.filter(pk=group.pk).update(size=3)  # the third payment completes it
    last = orders[2]

    def work(i):
        return group_failures.sweep() if i == 0 else pay_in_sandbox(last)

    results = run_together(2, work)
    group_failures.sweep()  # whatever the first one left for the next minute

    group.refresh_from_db()
    for order in orders:
        order.refresh_from_db()
    if group.status == "succeeded":
        assert all(o.status == Order.Status.PENDING_SHIPMENT and not o.awaiting_group for o in orders)
        assert not AfterSale.objects.exists()
    else:
        assert group.status == "failed", results
        for order in orders:
            if order.paid_amount:
                assert_refunded_once(order)
            else:
                assert order.status == Order.Status.CANCELLED
                assert GroupMember.objects.get(order=order).status == "left"
