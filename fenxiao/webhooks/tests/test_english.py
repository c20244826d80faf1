"""English on the backend's webhook pages (endpoints, deliveries, their actions and
refusals); the payloads a receiver gets are untouched."""

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation

from fenxiao.testing import backend_content, chinese_left, english_backend_page, in_english, login, make_staff
from fenxiao.webhooks.models import Delivery, Endpoint
from fenxiao.webhooks.services import endpoints, events

from .helpers import make_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> Client:
    return in_english(login(make_staff("boss", superuser=True)))


def _emit(n=1):
    with transaction.atomic():
        events.emit_many(
            "order.paid",
            (
                (f"order-paid:{i}", {"order_id": i, "paid_at": timezone.now().isoformat()})
                for i in range(1, n + 1)
            ),
        )


def test_endpoint_pages_in_english(boss, receiver):
    endpoint = make_endpoint(receiver.url, ["order.paid", "order.shipped"], description="ERP")
    make_endpoint("http://127.0.0.1:1/off", ["order.paid"], is_active=False, description="Old")
    body = english_backend_page(boss, "/backend/webhooks/endpoint/")
    assert "Order paid, Order shipped" in body and "Disabled" in body and "Active" in body
    english_backend_page(boss, "/backend/webhooks/endpoint/add/")
    body = english_backend_page(boss, f"/backend/webhooks/endpoint/{endpoint.pk}/change/")
    assert "Signing and verification" in body and "navigator.clipboard" in body and "hmac.new" in body
    assert "Selected, press Ctrl+C to copy" in body
    english_backend_page(boss, f"/backend/webhooks/endpoint/{endpoint.pk}/rotate-secret/")
    english_backend_page(boss, f"/backend/webhooks/endpoint/{endpoint.pk}/ping/")


def test_form_refusals_and_messages_in_english(boss, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    reply = boss.post(
        "/backend/webhooks/endpoint/add/",
        {"url": "http://192.168.1.10/hook", "events": ["order.paid"], "is_active": "on"},
    )
    body = reply.content.decode()
    assert "The endpoint URL points to a private or reserved address and was refused" in body
    assert chinese_left(backend_content(body)) == []
    assert not Endpoint.objects.exists()

    settings.WEBHOOK_ALLOW_PRIVATE = True
    endpoint = make_endpoint(receiver.url, ["order.paid"])
    reply = boss.post(f"/backend/webhooks/endpoint/{endpoint.pk}/ping/", {"confirm": "1"}, follow=True)
    body = reply.content.decode()
    assert f"Test delivery reached {receiver.url} (HTTP 200)" in body
    assert chinese_left(backend_content(body)) == []
    # The receiver gets the payload as it always was.
    assert receiver.payloads()[0]["data"]["message"] == "这是一条测试推送"


def test_delivery_pages_in_english(boss, receiver):
    receiver.replies = [500]
    make_endpoint(receiver.url, ["order.paid"])
    _emit(2)
    failed = Delivery.objects.get(last_response_code=500)
    body = english_backend_page(boss, "/backend/webhooks/delivery/")
    assert "Delivered" in body and "Pending" in body and "Order paid" in body
    body = english_backend_page(boss, f"/backend/webhooks/delivery/{failed.pk}/change/")
    assert "Delivery log" in body and "HTTP 500" in body
    english_backend_page(boss, f"/backend/webhooks/delivery/{failed.pk}/redeliver/")
    reply = boss.post(f"/backend/webhooks/delivery/{failed.pk}/redeliver/", {"confirm": "1"}, follow=True)
    body = reply.content.decode()
    assert "Redelivered 1" in body and chinese_left(backend_content(body)) == []
    english_backend_page(boss, "/backend/webhooks/event/")


def test_chinese_stays_the_default(receiver):
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    make_endpoint(receiver.url, ["order.paid"])
    _emit(1)
    body = client.get("/backend/webhooks/delivery/").content.decode()
    assert "已送达" in body and "订单已付款" in body and "Delivered" not in body
    body = client.get("/backend/webhooks/endpoint/").content.decode()
    assert "订阅事件" in body and "启用" in body


def test_a_disabled_endpoint_and_its_staff_notice_read_in_english(boss, receiver):
    """The system's reasons (stored in Chinese) read in English on the endpoint, its
    cancelled deliveries and the notice staff get; a failure's technical detail is as it
    came."""
    from datetime import timedelta

    from fenxiao.distribution.tests.helpers import travel
    from fenxiao.notices.models import Message
    from fenxiao.webhooks.services import delivery

    receiver.default = 503
    endpoint = make_endpoint(receiver.url, ["order.paid"])
    _emit(1)
    with travel(timedelta(days=1, minutes=1)):
        _emit(2)
        delivery.sweep()
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == "连续 24 小时推送失败，已自动停用"

    body = english_backend_page(boss, f"/backend/webhooks/endpoint/{endpoint.pk}/change/")
    assert "Pushes failed for 24 hours in a row; disabled automatically" in body
    body = english_backend_page(boss, "/backend/webhooks/delivery/")
    assert "The endpoint is disabled" in body

    message = Message.objects.get(kind="webhook_disabled")
    assert message.body.startswith(f"推送地址 {endpoint.url} 连续 24 小时推送失败")  # kept for SMS and search
    with translation.override("en"):
        assert message.title_text == "Webhook endpoint disabled"
        assert message.body_text == (
            f"Webhook endpoint {endpoint.url}: Pushes failed for 24 hours in a row; disabled automatically. "
            "Check the receiving service, then enable it again in the backend."
        )

    by_hand = make_endpoint("http://127.0.0.1:1/old", ["order.paid"])
    by_hand.is_active = False
    endpoints.save(by_hand, was_active=True)
    body = english_backend_page(boss, f"/backend/webhooks/endpoint/{by_hand.pk}/change/")
    assert "Disabled by hand" in body


def test_a_failed_connection_reads_in_english_with_its_detail_as_it_came(boss):
    endpoint = make_endpoint("http://127.0.0.1:1/refused", ["order.paid"])
    _emit(1)
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.last_error == "连接被拒绝"
    assert "Connection refused" in english_backend_page(boss, "/backend/webhooks/delivery/")
    # A failure with a technical detail: the words translated, the detail as it came.
    Delivery.objects.filter(pk=row.pk).update(
        last_error="网络连接失败（OSError: [Errno 113] No route to host）"
    )
    body = english_backend_page(boss, "/backend/webhooks/delivery/")
    assert "Network connection failed (OSError: [Errno 113] No route to host)" in body
