"""Webhook deliveries against a real receiver on 127.0.0.1: signed, retried with backoff,
redelivered on request, never sent twice by a restarted worker, disabled after a day of
failures (and staff told)."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from fenxiao.distribution.tests.helpers import travel
from fenxiao.notices.models import Message
from fenxiao.testing import make_buyer, make_staff
from fenxiao.webhooks.errors import EndpointInactive, EndpointRefused
from fenxiao.webhooks.models import Delivery, DeliveryStatus, Endpoint, Event
from fenxiao.webhooks.services import delivery, endpoints, events, signing

from .helpers import make_endpoint

pytestmark = pytest.mark.django_db


def _withdrawal_paid(withdrawal_id=7):
    with transaction.atomic():
        events.withdrawal_paid(
            withdrawal_id=withdrawal_id,
            number=f"W2026{withdrawal_id:04d}",
            distributor_id=3,
            amount=2500,
            fee=25,
            payout=2475,
            method="alipay",
            paid_at=timezone.now(),
        )


def _only_delivery() -> Delivery:
    (row,) = Delivery.objects.all()
    return row


def test_a_delivery_is_signed_and_the_signature_verifies(receiver):
    endpoint = make_endpoint(receiver.url)
    _withdrawal_paid()
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/fenxiao?from=test"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Fenxiao-Event"] == "withdrawal.paid"
    # What the README tells a receiver to do, verbatim.
    expected = hmac.new(
        endpoint.secret.encode(), headers["X-Fenxiao-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Fenxiao-Signature"] == expected
    assert signing.verify(
        endpoint.secret, headers["X-Fenxiao-Timestamp"], body, headers["X-Fenxiao-Signature"]
    )
    assert not signing.verify(
        "whsec_other", headers["X-Fenxiao-Timestamp"], body, headers["X-Fenxiao-Signature"]
    )
    assert abs(int(headers["X-Fenxiao-Timestamp"]) - timezone.now().timestamp()) < 60
    payload = json.loads(body)
    event = Event.objects.get()
    assert payload["id"] == headers["X-Fenxiao-Event-Id"] == str(event.event_id)
    assert payload["type"] == "withdrawal.paid"
    assert payload["data"] == {
        "withdrawal_id": 7,
        "withdrawal_number": "W20260007",
        "distributor_id": 3,
        "amount": 2500,
        "fee": 25,
        "payout": 2475,
        "method": "alipay",
        "status": "paid",
        "paid_at": payload["data"]["paid_at"],
    }
    row = _only_delivery()
    assert (row.status, row.attempts, row.last_response_code, row.last_error) == ("succeeded", 1, 200, "")
    assert row.delivered_at is not None
    (attempt,) = row.attempt_log.all()
    assert (attempt.number, attempt.response_code, attempt.error) == (1, 200, "")
    assert attempt.duration_ms >= 0 and attempt.response_excerpt == '{"ok": true}'


def test_a_failing_endpoint_is_retried_with_backoff_and_then_succeeds(receiver):
    receiver.replies = [500]
    endpoint = make_endpoint(receiver.url)
    _withdrawal_paid()
    row = _only_delivery()
    assert (row.status, row.attempts, row.last_response_code, row.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(minutes=1)  # first backoff: 1 minute
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.is_active

    assert delivery.sweep() == 0  # not due yet: nothing re-sent
    assert len(receiver.requests) == 1
    assert delivery.sweep(timezone.now() + timedelta(minutes=2)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_response_code) == ("succeeded", 2, 200)
    assert [a.response_code for a in row.attempt_log.order_by("pk")] == [500, 200]
    # The same event, the same id: the receiver deduplicates by it.
    assert len(set(receiver.event_ids())) == 1 and len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.last_success_at is not None


def test_backoff_grows_then_gives_up():
    assert [delivery.retry_delay(n) for n in (1, 2, 3, 4, 5)] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
    ]
    assert delivery.retry_delay(99) == timedelta(hours=24)


def test_a_timeout_or_a_closed_port_is_a_failure_retried_later(receiver):
    make_endpoint("http://127.0.0.1:1/closed")
    _withdrawal_paid()
    row = _only_delivery()
    assert row.status == "pending" and row.attempts == 1 and row.last_response_code is None
    assert row.last_error == "连接被拒绝"
    (attempt,) = row.attempt_log.all()
    assert attempt.response_code is None and attempt.error == row.last_error


def test_staff_redeliver_a_delivered_event(receiver):
    make_endpoint(receiver.url)
    _withdrawal_paid()
    row = _only_delivery()
    assert row.status == "succeeded"
    delivery.redeliver(row)
    row.refresh_from_db()
    assert row.status == "succeeded" and row.attempt_log.count() == 2
    assert len(receiver.requests) == 2 and len(set(receiver.event_ids())) == 1


def test_redelivery_is_refused_for_a_disabled_endpoint(receiver):
    endpoint = make_endpoint(receiver.url)
    _withdrawal_paid()
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    with pytest.raises(EndpointInactive):
        delivery.redeliver(_only_delivery())
    assert len(receiver.requests) == 1


def test_a_worker_restarted_mid_delivery_never_sends_twice(receiver, monkeypatch):
    make_endpoint(receiver.url)
    with monkeypatch.context() as m:
        m.setattr(delivery, "schedule", lambda ids: None)  # the task is lost with its worker
        m.setattr(events, "schedule", lambda ids: None)
        _withdrawal_paid()
    row = _only_delivery()
    assert row.status == "pending" and receiver.requests == []
    # A worker claims the row, then dies before (or during) its POST.
    claimed = delivery._claim(row.pk, timezone.now())
    assert claimed.status == "sending" and claimed.attempts == 1
    # The restarted worker and a second copy of the task find nothing to claim.
    delivery.deliver(row.pk)
    delivery.deliver_events([row.event_id])
    assert receiver.requests == []
    assert delivery.sweep() == 0  # still within the claim's deadline
    # Past the deadline the sweeper hands it back: sent once, and recorded.
    assert delivery.sweep(timezone.now() + delivery.CLAIM_TIMEOUT + timedelta(seconds=1)) == 1
    assert len(receiver.requests) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("succeeded", 2)
    # A delivered row is final: neither a stale task nor any later sweep sends it again.
    delivery.deliver(row.pk)
    delivery.deliver_events([row.event_id])
    assert delivery.sweep(timezone.now() + timedelta(days=3)) == 0
    assert len(receiver.requests) == 1


def test_a_stale_worker_cannot_overwrite_the_outcome_of_a_newer_claim(receiver):
    make_endpoint(receiver.url)
    receiver.replies = [500]
    _withdrawal_paid()
    row = _only_delivery()
    old_claim = Delivery.objects.get(pk=row.pk)
    old_claim.status, old_claim.attempts = DeliveryStatus.SENDING, 1
    delivery.sweep(timezone.now() + timedelta(minutes=2))
    row.refresh_from_db()
    assert row.status == "succeeded"
    assert delivery._mine(old_claim).update(status=DeliveryStatus.PENDING) == 0


def _operations_member():
    user = make_staff("ops")
    Group.objects.get_or_create(name="运营")[0].user_set.add(user)
    return user


def test_an_endpoint_failing_for_a_day_is_disabled_and_staff_are_told(receiver):
    receiver.default = 503
    boss, ops, finance, buyer = (
        make_staff("boss", superuser=True),
        _operations_member(),
        make_staff("fin"),
        make_buyer(),
    )
    endpoint = make_endpoint(receiver.url)
    _withdrawal_paid(1)
    # Failing for most of a day: still retried, still active.
    with travel(timedelta(hours=23)):
        delivery.sweep()
        _withdrawal_paid(2)
    endpoint.refresh_from_db()
    assert endpoint.is_active and len(receiver.requests) == 3
    # A day without a single success since the first failure: disabled.
    with travel(timedelta(days=1, minutes=1)):
        delivery.sweep()
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason == "连续 24 小时推送失败，已自动停用"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"cancelled"}
    told = Message.objects.filter(kind="webhook_disabled")
    assert sorted(told.values_list("user_id", flat=True)) == sorted([boss.pk, ops.pk])
    assert not Message.objects.filter(user__in=[finance, buyer]).exists()
    message = told.first()
    assert message.title == "Webhook 推送地址已停用"
    assert endpoint.url in message.body
    assert message.link == f"/backend/webhooks/endpoint/{endpoint.pk}/change/"
    # Disabled: a new event is not even written for it, and sweeps stay quiet.
    sent = len(receiver.requests)
    _withdrawal_paid(3)
    with travel(timedelta(days=3)):
        delivery.sweep()
    assert len(receiver.requests) == sent and Event.objects.count() == 2
    assert told.count() == 2  # told once


def test_a_success_within_the_day_keeps_the_endpoint(receiver):
    receiver.replies = [500]
    endpoint = make_endpoint(receiver.url)
    _withdrawal_paid(1)
    with travel(timedelta(hours=12)):
        delivery.sweep()  # succeeds
    with travel(timedelta(days=1, hours=1)):
        delivery.sweep()
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None


def test_enabling_again_starts_a_fresh_failure_clock(receiver):
    endpoint = make_endpoint(
        receiver.url,
        is_active=False,
        disabled_reason="连续 24 小时推送失败，已自动停用",
        failing_since=timezone.now() - timedelta(days=2),
    )
    endpoint.is_active = True
    endpoints.save(endpoint, was_active=False)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None and endpoint.disabled_reason == ""


def test_only_subscribed_active_endpoints_get_an_event(receiver):
    make_endpoint(receiver.url, ["order.paid"])
    make_endpoint(receiver.url, ["withdrawal.paid"], is_active=False)
    _withdrawal_paid()
    assert receiver.requests == [] and Event.objects.count() == 0


def test_ping_reaches_the_endpoint(receiver):
    endpoint = make_endpoint(receiver.url, ["order.paid"])
    row = delivery.ping(endpoint)
    assert row.status == "succeeded"
    (request,) = receiver.requests
    assert request["headers"]["X-Fenxiao-Event"] == "ping"
    assert json.loads(request["body"])["data"]["endpoint_id"] == endpoint.pk


def test_one_event_per_fact_even_if_the_service_reports_it_twice(receiver):
    make_endpoint(receiver.url)
    _withdrawal_paid()
    _withdrawal_paid()
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1
    assert len(receiver.requests) == 1


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_private_addresses_are_refused_in_production(receiver):
    for url in ("http://127.0.0.1/x", "http://10.0.0.8/x", "http://localhost/x", "http://169.254.169.254/"):
        with pytest.raises(EndpointRefused):
            endpoints.clean(url, ["order.paid"])
    assert endpoints.clean(" https://hooks.example.com/in ", ["order.paid", "order.paid"]) == (
        "https://hooks.example.com/in",
        ["order.paid"],
    )
    # An endpoint saved while allowed is still refused at send time: nothing leaves.
    make_endpoint(receiver.url)
    _withdrawal_paid()
    row = _only_delivery()
    assert receiver.requests == [] and row.status == "pending"
    assert row.last_error == "推送地址指向内网或保留地址，已拒绝"


def test_bad_endpoint_input_is_refused_with_a_message():
    from fenxiao.webhooks.errors import EndpointInvalid

    for url, events_ in (("ftp://x.example.com/", ["order.paid"]), ("https://a.example.com", ["nope"])):
        with pytest.raises(EndpointInvalid):
            endpoints.clean(url, events_)
    with pytest.raises(EndpointInvalid) as refused:
        endpoints.clean("https://a.example.com", [])
    assert refused.value.message == "请至少选择一个事件"


def test_the_minute_sweeper_is_a_periodic_task_that_re_drives_deliveries(receiver):
    from fenxiao.webhooks.tasks import sweep_webhooks

    receiver.replies = [500]
    make_endpoint(receiver.url)
    _withdrawal_paid()
    assert _only_delivery().status == "pending"
    with travel(timedelta(minutes=2)):
        sweep_webhooks.call_local()
    assert _only_delivery().status == "succeeded"


def test_emitting_many_events_costs_a_fixed_number_of_statements(monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(events, "schedule", lambda ids: None)  # the POSTs are per event anyway
    make_endpoint("http://127.0.0.1:1/a")
    make_endpoint("http://127.0.0.1:1/b")

    def cost(prefix, n):
        facts = ((f"{prefix}:{i}", {"i": i}) for i in range(n))
        with CaptureQueriesContext(connection) as ctx:
            assert events.emit_many("commission.settled", facts) == n
        return len(ctx.captured_queries)

    # (40 events keep SQLite's bulk inserts in one statement each; PostgreSQL never splits.)
    assert cost("few", 3) == cost("many", 40)
    assert Delivery.objects.count() == 2 * 43
    # Nobody listening: one read, and the facts are never even consumed.
    Endpoint.objects.update(is_active=False)

    def never():
        raise AssertionError("consumed")
        yield

    with CaptureQueriesContext(connection) as ctx:
        assert events.emit_many("commission.settled", never()) == 0
    assert len(ctx.captured_queries) == 1


def test_a_failed_test_push_is_logged_but_starts_no_failure_clock(receiver):
    receiver.default = 404
    endpoint = make_endpoint(receiver.url, ["order.paid"])
    row = delivery.ping(endpoint)
    assert (row.status, row.last_response_code, row.last_error) == ("failed", 404, "HTTP 404")
    assert delivery.sweep(timezone.now() + timedelta(days=1)) == 0  # not retried
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


def test_a_failed_connection_is_said_in_chinese_with_its_detail(receiver):
    """A receiver that speaks no TLS on an https address, or hangs up without answering:
    the log leads with what happened in Chinese (it read SSLError: … or
    RemoteDisconnected: … alone), the technical detail kept after it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up():
        conn, _address = listener.accept()
        conn.recv(65536)
        conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    port = receiver.server.server_address[1]
    for url, words, detail in (
        (f"https://127.0.0.1:{port}/hooks", "HTTPS 连接失败（", "SSL"),
        (
            f"http://127.0.0.1:{listener.getsockname()[1]}/hooks",
            "对方未返回响应就断开了连接（",
            "RemoteDisconnected",
        ),
    ):
        Endpoint.objects.all().delete()
        Event.objects.all().delete()
        make_endpoint(url)
        _withdrawal_paid()
        row = _only_delivery()
        assert row.status == "pending" and row.last_error.startswith(words), row.last_error
        assert detail in row.last_error
    listener.close()


def test_an_endpoint_on_a_chinese_domain_is_reached_by_its_ascii_name(receiver, monkeypatch):
    """例子.中国 resolves (here, to the receiver) and the POST names it as the DNS and the
    Host header know it, xn--fsqu00a.xn--fiqs8s; with the name as typed every send failed
    (UnicodeEncodeError in the Host header)."""
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        local = host in ("例子.中国", "xn--fsqu00a.xn--fiqs8s")
        return real("127.0.0.1" if local else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    port = receiver.server.server_address[1]
    make_endpoint(f"http://例子.中国:{port}/hooks")
    _withdrawal_paid()
    row = _only_delivery()
    assert row.status == "succeeded", row.last_error
    (request,) = receiver.requests
    assert request["headers"]["Host"] == f"xn--fsqu00a.xn--fiqs8s:{port}"
