"""English on the backend's message pages and the messages API; what a channel sends
stays as it was written, in Chinese (the message center shows a message in its reader's
language: test_message_language)."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from fenxiao.notices.channels.templates import source_value
from fenxiao.notices.models import Channel, Delivery, DeliveryStatus, Message
from fenxiao.testing import (
    api_for,
    backend_content,
    chinese_left,
    english_backend_page,
    in_english,
    login,
    make_buyer,
    make_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> Client:
    return in_english(login(make_staff("boss", superuser=True)))


@pytest.fixture
def outbox():
    buyer = make_buyer("13912345678", nickname="Alice")
    read = Message.objects.create(
        user=buyer,
        kind="order_shipped",
        title="Your order shipped",
        body="On its way",
        read_at=timezone.now(),
    )
    unread = Message.objects.create(user=buyer, kind="refund_done", title="Refunded", body="Money back")
    rows = [
        Delivery.objects.create(
            message=read,
            channel=Channel.SMS,
            adapter="sandbox",
            status=DeliveryStatus.SENT,
            recipient="13912345678",
            content="Your order shipped: On its way",
            sent_at=timezone.now(),
        ),
        Delivery.objects.create(
            message=unread,
            channel=Channel.WECHAT,
            adapter="mp",
            status=DeliveryStatus.FAILED,
            recipient="openid-1",
            content="Refunded",
            last_error="template missing",
        ),
    ]
    return buyer, [read, unread], rows


def test_message_pages_in_english(boss, outbox):
    _buyer, (read, _unread), _rows = outbox
    body = english_backend_page(boss, reverse("admin:notices_message_changelist"))
    assert "Recipient" in body and "Order shipped" in body and "Unread" in body
    english_backend_page(boss, reverse("admin:notices_message_change", args=[read.pk]))


def test_outbox_pages_in_english(boss, outbox):
    _buyer, _messages, (sent, failed) = outbox
    body = english_backend_page(boss, reverse("admin:notices_delivery_changelist"))
    assert "Sandbox" in body and "Failed" in body and "WeChat template message" in body
    body = english_backend_page(boss, reverse("admin:notices_delivery_change", args=[failed.pk]))
    assert "Failed" in backend_content(body) and "('failed'" not in body  # a label, never a tuple


def test_retrying_a_sent_row_is_refused_in_english(boss, outbox):
    _buyer, _messages, (sent, _failed) = outbox
    reply = boss.post(
        reverse("admin:notices_delivery_changelist"),
        {"action": "retry_selected", "_selected_action": [sent.pk]},
        follow=True,
    )
    body = reply.content.decode()
    assert f"#{sent.pk}: This notification has been sent or is being sent" in body
    assert chinese_left(backend_content(body)) == []


def test_api_refusal_and_labels_follow_accept_language(outbox):
    buyer, _messages, _rows = outbox
    api = api_for(buyer)
    url = "/api/v1/messages/999999/read"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api.token}"}
    english = Client().post(url, "{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **headers)
    chinese = Client().post(url, "{}", content_type="application/json", **headers)
    assert english.status_code == chinese.status_code == 404
    assert english.json() == {"code": "MESSAGE_NOT_FOUND", "message": "Message not found"}
    assert chinese.json() == {"code": "MESSAGE_NOT_FOUND", "message": "消息不存在"}
    listed = Client().get("/api/v1/messages", HTTP_ACCEPT_LANGUAGE="en", **headers).json()
    assert {m["kind_label"] for m in listed["items"]} == {"Order shipped", "Refund received"}
    assert json.dumps(listed)  # plain JSON, no lazy strings


def test_what_a_channel_sends_stays_chinese(outbox):
    _buyer, (read, _unread), _rows = outbox
    with translation.override("en"):
        assert source_value(read, "kind") == "订单发货"


def test_chinese_stays_the_default(outbox):
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    body = client.get(reverse("admin:notices_delivery_changelist")).content.decode()
    assert "沙箱" in body and "发送失败" in body and "Sandbox" not in body


@pytest.mark.parametrize("english", [False, True])
def test_statuses_are_coloured_badges_in_either_language(boss, outbox, english):
    if not english:
        boss.cookies.pop("django_language")
    body = boss.get(reverse("admin:notices_delivery_changelist")).content.decode()
    sent, failed = ("Sent", "Failed") if english else ("已发送", "发送失败")
    assert re.search(r'bg-green-100[^"]*"\s*>\s*' + sent, body), sent
    assert re.search(r'bg-red-100[^"]*"\s*>\s*' + failed, body), failed
