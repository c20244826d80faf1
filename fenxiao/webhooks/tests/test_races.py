"""PostgreSQL, real transactions: workers racing for one delivery send it once; a service
reporting one change from two connections at once writes one event."""

from django.db import transaction

from fenxiao.testing import postgres_only_marks, run_together
from fenxiao.webhooks.models import Delivery, Event
from fenxiao.webhooks.services import delivery, events

from .helpers import make_endpoint

pytestmark = postgres_only_marks()


def _report():
    with transaction.atomic():
        events.order_paid(order_id=42, number="P42", buyer_id=1, total=100, paid_amount=100, paid_at=None)


def test_workers_racing_for_one_delivery_send_it_once(receiver, monkeypatch):
    make_endpoint(receiver.url, ["order.paid"])
    monkeypatch.setattr(events, "schedule", lambda ids: None)
    _report()
    row = Delivery.objects.get()
    results = run_together(6, lambda i: delivery.deliver(row.pk))
    assert results == [None] * 6
    assert len(receiver.requests) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("succeeded", 1)


def test_one_change_reported_twice_at_once_is_one_event(receiver):
    make_endpoint(receiver.url, ["order.paid"])
    results = run_together(4, lambda i: _report())
    assert results == [None] * 4
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1
    assert len(receiver.requests) == 1
