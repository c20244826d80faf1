"""English on the backend's webhook pages (endpoints, deliveries, their actions and
refusals); the payloads a receiver gets are untouched."""

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from fenxiao.testing import backend_content, chinese_left, english_backend_page, in_english, login, make_staff
from fenxiao.webhooks.models import Delivery, Endpoint
from fenxiao.webhooks.services import events

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
