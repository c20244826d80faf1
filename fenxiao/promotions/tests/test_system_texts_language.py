"""What the system writes into a push's 取消原因 and a hand-out's 发放对象 / 备注 is kept in
Chinese on the row and shown in the reader's language; what staff typed stays as typed."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from fenxiao.customers.tests.crm import operations
from fenxiao.promotions.models import CouponIssue, PushStatus
from fenxiao.promotions.services import push as service
from fenxiao.testing import chinese_left, english_backend_page, in_english, make_staff

from .factories import make_coupon
from .push_helpers import make_push, make_segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(monkeypatch):
    monkeypatch.setattr(service, "_enqueue", lambda push_id: None)
    monkeypatch.setattr(service, "CHUNK", 2)


def progress(client: Client, push) -> str:
    return client.get(reverse("admin:promotions_push_progress", args=[push.pk])).content.decode()


def test_a_cancelled_push_gives_its_reason_in_the_readers_language(held):
    segment, _ = make_segment(3)
    push = make_push(segment)
    service.start(push, make_staff())
    with translation.override("en"):
        service.cancel(push, make_staff())
    push.refresh_from_db()
    assert push.stop_reason == "人工取消"

    client = operations()
    assert "（人工取消）" in progress(client, push)
    english = progress(in_english(client), push)
    assert "(Cancelled by staff)" in english and chinese_left(english) == []


def test_a_push_whose_coupon_closed_keeps_the_chinese_and_reads_in_english(held):
    segment, _ = make_segment(4)
    coupon = make_coupon(amount=500, min_spend=1000, name="回馈券")
    push = make_push(segment, coupon=coupon, title="老客回馈")
    service.start(push, make_staff())
    service.deliver(push.pk, max_chunks=1)
    coupon.is_active = False
    coupon.save()
    # The job may run inside an English request (an immediate queue): the row stays Chinese.
    with translation.override("en"):
        service.deliver(push.pk)
    push.refresh_from_db()
    assert push.status == PushStatus.CANCELLED
    assert push.stop_reason == "优惠券不可再发放：优惠券已停用"
    with translation.override("en"):
        assert push.stop_reason_text == "The coupon can no longer be handed out: The coupon has been disabled"
    assert push.stop_reason_text == "优惠券不可再发放：优惠券已停用"

    issue = CouponIssue.objects.get(coupon=coupon)
    assert (issue.audience, issue.note) == ("定向推送「老客回馈」", f"推送 #{push.pk}")
    english = in_english(operations()).get(reverse("admin:promotions_couponissue_changelist"))
    text = english.content.decode()
    assert "Targeted push &quot;老客回馈&quot;" in text and f"Push #{push.pk}" in text
    assert "定向推送「" not in text and "推送 #" not in text


def test_a_hand_out_to_phones_reads_in_english_with_the_phones_and_the_staff_note():
    coupon = make_coupon(amount=1000, valid_days=7, name="回馈券")
    client = operations()
    phones = "13800000001\n13800000002\n13800000003\n13800000004"
    reply = client.post(
        reverse("admin:promotions_coupon_issue_to_buyers", args=[coupon.pk]),
        {"phones": phones, "note": "老客回访"},
    )
    assert reply.status_code == 302
    issue = CouponIssue.objects.get(coupon=coupon)
    assert issue.audience == ("手动发放：4 个手机号（13800000001、13800000002、13800000003等）")

    with translation.override("en"):
        assert issue.audience_text == (
            "Handed out: 4 phone numbers (13800000001, 13800000002, 13800000003 and more)"
        )
        assert issue.note_text == "老客回访"
    # The list's 等 reads as it does on other lists (after a space).
    assert issue.audience_text == "手动发放：4 个手机号（13800000001、13800000002、13800000003 等）"

    text = in_english(client).get(reverse("admin:promotions_couponissue_changelist")).content.decode()
    # 运营 may see buyers' phones (the masking is `test_admin_walk_issue_log_phones`).
    assert "Handed out: 4 phone numbers (13800000001, 13800000002, 13800000003 and more)" in text
    assert "老客回访" in text


def test_an_audience_the_system_did_not_write_is_shown_as_it_is():
    issue = CouponIssue(audience="会员日：全部 VIP", note="推送 #12 之后补发")
    with translation.override("en"):
        assert (issue.audience_text, issue.note_text) == ("会员日：全部 VIP", "推送 #12 之后补发")


def test_a_sent_pushs_report_reads_in_english(held):
    segment, _ = make_segment(2, name="老客")
    push = make_push(segment, title="老客回馈")
    service.start(push, make_staff())
    service.deliver(push.pk)
    url = reverse("admin:promotions_push_change", args=[push.pk])
    data = ("老客回馈", "限时优惠，点击查看", "老客", push.product.name)
    page = english_backend_page(operations(), url, *data)
    # 已读 / 已点击 / 下单客户 with their share, in the reader's punctuation.
    assert "0 (0.00 %)" in page
