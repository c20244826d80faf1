"""Targeted pushes under real concurrency (PostgreSQL): delivery jobs running at once, one of
them stopped midway, a cancel in the middle — still exactly one message (and at most one
coupon copy) per member."""

from collections import Counter

from fenxiao.notices.models import Kind, Message
from fenxiao.promotions.models import BuyerCoupon, Push, PushStatus
from fenxiao.promotions.services import push as service
from fenxiao.testing import make_staff, postgres_only_marks, run_together

from .factories import make_coupon
from .push_helpers import make_push, make_segment

pytestmark = postgres_only_marks()

JOBS = 6


def started(push, monkeypatch):
    """Start the push with its own job held back, so only the racing jobs deliver."""
    monkeypatch.setattr(service, "_enqueue", lambda push_id: None)
    service.start(push, make_staff())


def per_user(push):
    return Counter(
        Message.objects.filter(kind=Kind.PUSH, subject_id=push.pk).values_list("user_id", flat=True)
    )


def test_jobs_running_at_once_give_each_member_exactly_one_message(monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 7)
    segment, members = make_segment(120)
    push = make_push(segment)
    started(push, monkeypatch)
    # One job is stopped after a chunk (as if killed), the others run to the end together.
    handled = run_together(JOBS, lambda i: service.deliver(push.pk, max_chunks=1 if i == 0 else None))
    assert all(isinstance(n, int) for n in handled), handled
    assert sum(handled) == 120
    push.refresh_from_db()
    assert (push.status, push.processed, push.total) == (PushStatus.DONE, 120, 120)
    assert per_user(push) == {b.pk: 1 for b in members}


def test_a_restarted_job_racing_the_old_one_still_sends_once(monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 5)
    segment, members = make_segment(60)
    push = make_push(segment)
    started(push, monkeypatch)
    assert service.deliver(push.pk, max_chunks=2) == 10  # the first job dies after two chunks
    handled = run_together(3, lambda i: service.deliver(push.pk))  # restarts overlap
    assert sum(handled) == 50
    assert per_user(push) == {b.pk: 1 for b in members}


def test_racing_coupon_jobs_hand_out_no_more_than_the_quantity(monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 4)
    segment, members = make_segment(50)
    coupon = make_coupon(amount=500, min_spend=1000, total_quantity=30, per_buyer_limit=1)
    push = make_push(segment, coupon=coupon)
    started(push, monkeypatch)
    run_together(JOBS, lambda i: service.deliver(push.pk))
    coupon.refresh_from_db()
    push = Push.objects.get(pk=push.pk)
    copies = Counter(BuyerCoupon.objects.filter(coupon=coupon).values_list("buyer_id", flat=True))
    assert coupon.issued == 30 == sum(copies.values()) == push.coupons_issued
    assert set(copies.values()) == {1}
    assert per_user(push) == dict.fromkeys(copies, 1)
    assert (push.status, push.processed) == (PushStatus.DONE, 50)


def test_a_cancel_during_delivery_stops_it_and_counts_stay_true(monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 3)
    segment, _ = make_segment(90)
    push = make_push(segment)
    staff = make_staff()
    started(push, monkeypatch)

    def work(i):
        if i == 0:
            return service.cancel(Push.objects.get(pk=push.pk), staff).status
        return service.deliver(push.pk)

    run_together(4, work)
    push.refresh_from_db()
    assert push.status == PushStatus.CANCELLED
    # Whatever got through before the cancel is exactly what the counter and the messages say.
    assert sum(per_user(push).values()) == push.processed
    assert set(per_user(push).values()) <= {1}
    assert service.deliver(push.pk) == 0
