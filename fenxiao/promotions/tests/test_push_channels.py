"""A targeted push may also go out by SMS: through the notices outbox, only to
recipients who accept marketing (the others get the in-site message alone), never on a
channel that is not set up, with the outcome per channel in the push's report."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.customers.models import User
from fenxiao.notices.models import Delivery, DeliveryStatus, Kind, Message
from fenxiao.promotions.models import Push, PushStatus
from fenxiao.promotions.services import push as service
from fenxiao.promotions.services.push_report import report
from fenxiao.testing import make_product, make_staff

from .push_helpers import make_push, make_segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_channels(settings):
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "sandbox", "wechat": "sandbox"}


def push_deliveries(push):
    return Delivery.objects.filter(message__subject_type="push", message__subject_id=push.pk)


def test_chosen_channels_reach_those_who_accept_marketing_and_the_rest_in_site_only(sandbox_channels):
    segment, members = make_segment(5)
    declined = members[:2]
    User.objects.filter(pk__in=[b.pk for b in declined]).update(accepts_marketing=False)
    push = make_push(segment)
    push.via_sms = True
    push.save()

    service.start(push, make_staff())

    push.refresh_from_db()
    assert push.status == PushStatus.DONE
    # Everyone has the message in the message center.
    assert Message.objects.filter(kind=Kind.PUSH, subject_id=push.pk).count() == 5
    # Only those who accept marketing got an SMS; nobody got a WeChat notice (not chosen).
    rows = push_deliveries(push)
    assert sorted(rows.values_list("message__user_id", flat=True)) == sorted(b.pk for b in members[2:])
    assert set(rows.values_list("channel", flat=True)) == {"sms"}
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    sent = rows.first()
    assert "新品上架" in sent.content and sent.recipient.startswith("1")

    [sms] = report(push).channels
    assert (sms.channel, sms.sent, sms.failed, sms.waiting, sms.skipped) == ("sms", 3, 0, 0, 2)


def test_a_push_without_channels_writes_no_outbox_rows(sandbox_channels):
    segment, _members = make_segment(3)
    push = make_push(segment)

    service.start(push, make_staff())

    assert Message.objects.filter(kind=Kind.PUSH, subject_id=push.pk).count() == 3
    assert not push_deliveries(push).exists()
    assert report(push).channels == ()


def test_wechat_is_never_used_for_a_push_and_a_rerun_sends_nothing_twice(sandbox_channels):
    # WeChat template messages are for service notices only: a push never goes there, even
    # with the WeChat channel on and a template for pushes.
    segment, members = make_segment(4)
    push = make_push(segment)
    push.via_sms = True
    push.save()

    service.start(push, make_staff())

    rows = push_deliveries(push)
    assert set(rows.values_list("channel", flat=True)) == {"sms"} and rows.count() == 4
    assert service.available_channels() == {"sms"}
    assert service.deliver(push.pk) == 0
    assert rows.count() == 4


def test_a_channel_that_is_not_set_up_is_refused_when_saving_and_starting(settings):
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "", "wechat": "sandbox"}
    segment, _members = make_segment(2)
    push = make_push(segment)
    push.via_sms = True
    with pytest.raises(service.PushInvalid) as refused:
        service.save_draft(push, make_staff())
    assert "短信通道未开通" in refused.value.message

    # Saved while the channel was on, started after it went off: refused, still a draft.
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "sandbox", "wechat": "sandbox"}
    service.save_draft(push, None)
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "", "wechat": "sandbox"}
    with pytest.raises(service.PushInvalid):
        service.start(push, make_staff())
    push.refresh_from_db()
    assert push.status == PushStatus.DRAFT


def test_a_template_provider_carries_a_push_only_with_a_push_template(settings):
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "aliyun", "wechat": "mp"}
    settings.NOTICE_TEMPLATES = {}
    assert service.available_channels() == set()
    template = {"push": {"template": "T1", "fields": {"title": "title"}}}
    settings.NOTICE_TEMPLATES = {"sms": template, "wechat": template}
    assert service.available_channels() == {"sms"}


def test_statements_per_chunk_do_not_grow_with_the_chunk(sandbox_channels, monkeypatch, settings):
    # Sending itself runs in the outbox's own tasks; this counts what a chunk writes.
    monkeypatch.setattr("fenxiao.notices.services.delivery.schedule", lambda ids: None)
    monkeypatch.setattr("fenxiao.notices.services.inbox.schedule", lambda ids: None)
    held = []
    monkeypatch.setattr(service, "_enqueue", held.append)
    counts = []
    for size in (3, 12):
        segment, members = make_segment(size)
        User.objects.filter(pk=members[0].pk).update(accepts_marketing=False)
        push = make_push(segment)
        push.via_sms = True
        push.save()
        service.start(push, make_staff())
        with CaptureQueriesContext(connection) as queries:
            assert service.deliver_chunk(push.pk) == size
        counts.append(len(queries))
        assert push_deliveries(push).count() == size - 1
    assert counts[0] == counts[1]


def test_the_backend_offers_the_channels_and_reports_them(sandbox_channels):
    from django.urls import reverse

    from fenxiao.customers.tests.crm import operations

    client = operations()
    segment, members = make_segment(3)
    User.objects.filter(pk=members[0].pk).update(accepts_marketing=False)
    product = make_product(name="羊毛围巾")
    blank = client.get(reverse("admin:promotions_push_add")).content.decode()
    assert "发送渠道" in blank and "同时发短信" in blank and "站内消息总会发送" in blank

    data = {"title": "双十二预告", "body": "新品抢先看", "segment": segment.pk, "carries": "product"}
    data.update(product=product.pk, via_sms="on")
    reply = client.post(reverse("admin:promotions_push_add"), data)
    assert reply.status_code == 302, reply.content.decode()[:2000]
    push = Push.objects.get()
    assert push.via_sms
    confirm = client.get(reverse("admin:promotions_push_start_push", args=[push.pk])).content.decode()
    assert "站内消息，以及短信：约 2 位接收活动推送的客户" in confirm

    client.post(reverse("admin:promotions_push_start_push", args=[push.pk]))
    page = client.get(reverse("admin:promotions_push_change", args=[push.pk])).content.decode()
    assert "已发送 2 · 失败 0 · 待发送 0" in page
    assert "短信：不接收活动推送" in page and "1 人（仅站内消息）" in page


def test_the_backend_greys_out_a_channel_that_is_not_set_up(settings):
    from django.urls import reverse

    from fenxiao.customers.tests.crm import operations

    attribute = re.compile(r"\sdisabled[\s>]")  # not Tailwind's disabled: classes
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "", "wechat": "sandbox"}
    page = operations().get(reverse("admin:promotions_push_add")).content.decode()
    assert "短信通道未开通，或没有“活动推送”的短信模板" in page
    [sms_box] = re.findall(r"<input[^>]*name=\"via_sms\"[^>]*>", page)
    assert attribute.search(sms_box) and "微信模板消息只能用于服务通知" in page
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "sandbox", "wechat": ""}
    page = operations().get(reverse("admin:promotions_push_add")).content.decode()
    [sms_box] = re.findall(r"<input[^>]*name=\"via_sms\"[^>]*>", page)
    assert not attribute.search(sms_box)
