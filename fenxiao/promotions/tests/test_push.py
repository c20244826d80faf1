"""Targeted pushes: each member of the segment gets exactly one message, whatever happens to
the job; the audience is frozen at the start; the coupon path keeps the coupon's limits;
the report's figures equal a hand count; bad input is refused in Chinese."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.core.errors import DomainError, InvalidTransition
from fenxiao.customers.models import CustomerTag
from fenxiao.notices.models import Kind, Message
from fenxiao.notices.services import inbox
from fenxiao.orders.models import Order
from fenxiao.orders.services.checkout import place_order
from fenxiao.promotions.models import BuyerCoupon, CouponIssue, Push, PushRecipient, PushStatus
from fenxiao.promotions.services import push as service
from fenxiao.promotions.services.push_report import report
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

from .factories import give_coupon, make_coupon
from .push_helpers import make_push, make_segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 3)


@pytest.fixture
def held(monkeypatch):
    """The delivery jobs `start` queues, held back so the test runs them (or not) itself."""
    queued = []
    monkeypatch.setattr(service, "_enqueue", queued.append)
    return queued


def messages_per_user(push):
    return Counter(
        Message.objects.filter(kind=Kind.PUSH, subject_type="push", subject_id=push.pk).values_list(
            "user_id", flat=True
        )
    )


def test_a_push_reaches_each_member_of_its_segment_exactly_once(small_chunks):
    segment, members = make_segment(8, outsiders=3)
    staff = make_staff()
    push = make_push(segment)
    # Starting queues the job after commit; the test's Huey runs it at once.
    service.start(push, staff)
    push.refresh_from_db()
    assert (push.status, push.processed) == (PushStatus.DONE, 8)
    assert messages_per_user(push) == {b.pk: 1 for b in members}
    message = Message.objects.get(user=members[0], subject_id=push.pk)
    assert (message.title, message.link) == ("新品上架", f"/products/{push.product_id}/")
    # Every recipient points at its own message.
    assert not PushRecipient.objects.filter(push=push, message__isnull=True).exists()


def test_a_job_stopped_midway_and_run_again_gives_nobody_a_second_message(small_chunks, held):
    segment, members = make_segment(10)
    push = make_push(segment)
    service.start(push, make_staff())

    assert service.deliver(push.pk, max_chunks=1) == 3  # the job dies after one chunk
    push.refresh_from_db()
    assert (push.status, push.processed, push.percent) == (PushStatus.SENDING, 3, 30)
    assert sum(messages_per_user(push).values()) == 3

    assert service.deliver(push.pk) == 7  # a new job picks up where it stopped
    assert service.deliver(push.pk) == 0  # and a third finds nothing to do
    push.refresh_from_db()
    assert (push.status, push.processed) == (PushStatus.DONE, 10)
    assert messages_per_user(push) == {b.pk: 1 for b in members}


def test_the_sweeper_requeues_a_push_whose_job_died(small_chunks, held):
    segment, members = make_segment(5)
    push = make_push(segment)
    service.start(push, make_staff())
    service.deliver(push.pk, max_chunks=1)
    queued = held
    assert held == [push.pk]
    held.clear()

    assert service.sweep() == []  # progress was just made: the job may still be alive
    later = timezone.now() + service.STALE + timedelta(seconds=1)
    assert service.sweep(now=later) == [push.pk]
    assert service.sweep(now=later) == []  # claimed: not queued twice
    assert queued == [push.pk]
    service.deliver(push.pk)
    assert messages_per_user(push) == {b.pk: 1 for b in members}


def test_the_periodic_sweeper_resumes_a_stranded_push(small_chunks, held, monkeypatch):
    from fenxiao.promotions.tasks import resume_stranded_pushes

    segment, members = make_segment(7)
    push = make_push(segment)
    service.start(push, make_staff())
    service.deliver(push.pk, max_chunks=1)  # then the job dies
    Push.objects.filter(pk=push.pk).update(heartbeat_at=timezone.now() - service.STALE - timedelta(seconds=1))
    monkeypatch.setattr(service, "_enqueue", service.deliver)  # the requeued job runs at once
    resume_stranded_pushes.call_local()
    push.refresh_from_db()
    assert (push.status, push.processed) == (PushStatus.DONE, 7)
    assert messages_per_user(push) == {b.pk: 1 for b in members}


def test_membership_is_frozen_when_the_push_starts(held):
    segment, members = make_segment(3)
    push = make_push(segment)
    service.start(push, make_staff())
    # A buyer tagged after the start is not a recipient; one untagged still is.
    late = make_buyer()
    CustomerTag.objects.create(user=late, tag_id=segment.criteria["tags_any"][0], created_at=timezone.now())
    CustomerTag.objects.filter(user=members[0]).delete()
    service.deliver(push.pk)
    assert set(messages_per_user(push)) == {b.pk for b in members}


def test_a_cancelled_push_sends_nothing_more(small_chunks, held):
    segment, _ = make_segment(7)
    push = make_push(segment)
    staff = make_staff()
    service.start(push, staff)
    service.deliver(push.pk, max_chunks=1)
    service.cancel(push, staff)
    assert service.deliver(push.pk) == 0
    push.refresh_from_db()
    assert (push.status, push.processed, push.stop_reason) == (PushStatus.CANCELLED, 3, "人工取消")
    assert sum(messages_per_user(push).values()) == 3
    with pytest.raises(InvalidTransition):
        service.start(push, staff)


def test_the_coupon_path_keeps_the_coupons_quantity_and_per_buyer_limit(small_chunks):
    segment, members = make_segment(6)
    coupon = make_coupon(amount=500, min_spend=1000, total_quantity=4, per_buyer_limit=1)
    give_coupon(members[0], coupon)  # already holds one: at the limit
    push = make_push(segment, coupon=coupon)
    service.start(push, make_staff())
    service.deliver(push.pk)

    coupon.refresh_from_db()
    push.refresh_from_db()
    copies = Counter(
        BuyerCoupon.objects.filter(coupon=coupon, issue__isnull=False).values_list("buyer_id", flat=True)
    )
    # members[0] is skipped (limit); the next four get the four copies; the last gets none.
    assert copies == {b.pk: 1 for b in members[1:5]}
    assert coupon.issued == 4
    assert (push.status, push.processed, push.coupons_issued) == (PushStatus.DONE, 6, 4)
    # Only those who got a copy get the message, and it leads to their coupons.
    assert messages_per_user(push) == {b.pk: 1 for b in members[1:5]}
    assert Message.objects.filter(subject_id=push.pk, kind=Kind.PUSH).first().link == "/me/coupons/"
    assert sum(CouponIssue.objects.filter(coupon=coupon).values_list("issued", flat=True)) == 4
    figures = report(push)
    assert (figures.recipients, figures.delivered, figures.coupons_issued) == (6, 4, 4)


def test_a_coupon_ended_midway_stops_the_push_with_the_reason(small_chunks, held):
    segment, _ = make_segment(6)
    coupon = make_coupon(amount=500, min_spend=1000, per_buyer_limit=1)
    push = make_push(segment, coupon=coupon)
    service.start(push, make_staff())
    service.deliver(push.pk, max_chunks=1)
    coupon.is_active = False
    coupon.save()
    assert service.deliver(push.pk) == 0
    push.refresh_from_db()
    assert push.status == PushStatus.CANCELLED
    assert push.stop_reason.startswith("优惠券不可再发放")
    assert (push.processed, push.coupons_issued) == (3, 3)


def address_of(buyer):
    return (buyer.addresses.first() or make_address(buyer)).pk


def paid_order(buyer, product):
    order = place_order(buyer, [(product.skus.get().pk, 1)], address_id=address_of(buyer))
    pay_in_sandbox(order)
    order.refresh_from_db()
    return order


def test_the_report_equals_a_hand_count(django_assert_max_num_queries):
    segment, members = make_segment(5)
    product = make_product(price=2000)
    early = paid_order(members[4], product)  # paid before the push: does not count
    push = make_push(segment, product=product)
    service.start(push, make_staff())
    service.deliver(push.pk)

    mine = {b.pk: Message.objects.get(user=b, subject_id=push.pk, kind=Kind.PUSH) for b in members}
    inbox.mark_read(members[0], mine[members[0].pk].pk)
    inbox.click(members[1], mine[members[1].pk].pk)  # a click reads it too
    inbox.mark_read(members[2], mine[members[2].pk].pk)
    o1 = paid_order(members[0], product)
    o2 = paid_order(members[0], product)
    o3 = paid_order(members[1], product)
    late = paid_order(members[3], product)  # paid after the window: does not count
    Order.objects.filter(pk=late.pk).update(paid_at=timezone.now() + timedelta(days=8))
    outsider = paid_order(make_buyer(), product)  # not a recipient
    place_order(members[2], [(product.skus.get().pk, 1)], address_id=address_of(members[2]))  # unpaid

    with django_assert_max_num_queries(2):
        figures = report(push)
    assert (figures.recipients, figures.delivered, figures.read, figures.clicked) == (5, 5, 3, 1)
    assert (figures.buyers_ordered, figures.orders) == (2, 3)
    assert figures.paid_amount == o1.paid_amount + o2.paid_amount + o3.paid_amount
    assert figures.read_bp == 6000 and figures.ordered_bp == 4000
    assert early.paid_amount and outsider.paid_amount


def test_the_report_uses_the_same_queries_for_many_recipients(django_assert_max_num_queries):
    segment, members = make_segment(40)
    push = make_push(segment)
    service.start(push, make_staff())
    service.deliver(push.pk)
    with django_assert_max_num_queries(2):
        assert report(push).delivered == 40


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title": " "}, "请填写推送标题"),
        ({"body": ""}, "请填写推送内容"),
    ],
)
def test_a_draft_missing_words_is_refused(change, message):
    segment, _ = make_segment(1)
    push = make_push(segment)
    for field, value in change.items():
        setattr(push, field, value)
    with pytest.raises(DomainError) as refused:
        service.save_draft(push, make_staff())
    assert refused.value.message == message


def test_bad_pushes_are_refused_in_chinese():
    staff = make_staff()
    segment, _ = make_segment(2)
    unlisted = make_product(listed=False)
    with pytest.raises(DomainError) as refused:
        service.save_draft(_unsaved(segment, product=unlisted), staff)
    assert refused.value.message == "该商品未上架，不能推送"

    ended = make_coupon(amount=500, min_spend=1000, valid_until=timezone.now() - timedelta(hours=1))
    with pytest.raises(DomainError) as refused:
        service.save_draft(_unsaved(segment, coupon=ended), staff)
    assert refused.value.message == "该优惠券已停用、已过期或已发完，不能推送"

    empty, _ = make_segment(0)
    push = make_push(empty)
    with pytest.raises(DomainError) as refused:
        service.start(push, staff)
    assert (refused.value.code, refused.value.message) == (
        "PUSH_EMPTY_SEGMENT",
        "该客户分群当前没有客户，无法发送",
    )
    push.refresh_from_db()
    assert (push.status, push.total) == (PushStatus.DRAFT, 0)
    assert not PushRecipient.objects.filter(push=push).exists()

    # A product taken off the shelf after the draft was written cannot be sent either.
    product = make_product()
    push = make_push(segment, product=product)
    product.is_listed = False
    product.save()
    with pytest.raises(DomainError) as refused:
        service.start(push, staff)
    assert refused.value.message == "该商品未上架，不能推送"
    assert Push.objects.get(pk=push.pk).status == PushStatus.DRAFT


def _unsaved(segment, *, product=None, coupon=None):
    return Push(
        title="推送",
        body="内容",
        carries="coupon" if coupon else "product",
        product=product,
        coupon=coupon,
        segment=segment,
    )


@pytest.mark.parametrize(
    "criteria",
    [{"spend_max": 0}, {"orders_max": 0, "registered_within": 3}, {"not_paid_within": 5}, {"bound": "none"}],
)
def test_a_segment_over_behaviour_freezes_exactly_its_members(criteria, small_chunks, held):
    from fenxiao.customers.models import Segment
    from fenxiao.customers.services import segments

    for _ in range(5):
        make_buyer()
    segment = Segment.objects.create(name="行为分群", criteria=criteria)
    expected = set(segments.members(segment))
    push = service.start(make_push(segment), make_staff())
    assert push.total == len(expected) == service.preview_count(segment) >= 5
    assert set(PushRecipient.objects.filter(push=push).values_list("user_id", flat=True)) == expected


@pytest.mark.parametrize("with_coupon", [False, True])
def test_a_chunk_costs_the_same_statements_whatever_its_size(with_coupon, held, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (3, 30):
        monkeypatch.setattr(service, "CHUNK", size)
        segment, _ = make_segment(size)
        coupon = make_coupon(amount=500, min_spend=1000) if with_coupon else None
        push = make_push(segment, coupon=coupon)
        service.start(push, make_staff())
        with CaptureQueriesContext(connection) as ctx:
            assert service.deliver_chunk(push.pk) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
