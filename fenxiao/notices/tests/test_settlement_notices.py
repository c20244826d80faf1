"""A settlement run tells each distributor once, with one grouped read and a fixed number of
statements, however many commissions and distributors it settles."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution.models import Commission
from fenxiao.distribution.tests.helpers import (
    bound_buyer,
    buy,
    ledger_sum,
    make_distributor,
    receive,
    settle_now,
    sku,
)
from fenxiao.notices.models import Delivery, Message
from fenxiao.notices.services import delivery, inbox
from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


def shop(chains: int, lines: int):
    """`chains` pairs a → b; each b sold one order of `lines` products: 2 × chains × lines
    commissions to settle."""
    products = [make_product(price=1000 * (i + 1)) for i in range(lines)]
    people = []
    for _ in range(chains):
        a = make_distributor()
        b = make_distributor(parent=a)
        receive(buy(bound_buyer(b), *((sku(p), 1) for p in products)))
        people += [a, b]
    return people


def settle_counting(monkeypatch):
    """Settle, counting the run's statements. The outbox rows are delivered afterwards, as
    the background task would: that work is the worker's, not the run's."""
    queued = []
    with monkeypatch.context() as patched, CaptureQueriesContext(connection) as captured:
        patched.setattr(inbox, "schedule", queued.extend)
        batch = settle_now()
    delivery.deliver_messages(queued)
    notice_queries = [q["sql"] for q in captured.captured_queries if "notices_" in q["sql"]]
    return batch, len(captured.captured_queries), notice_queries


def test_many_commissions_give_one_notice_per_distributor_with_their_ledger_total(monkeypatch):
    people = shop(chains=4, lines=5)
    batch, _, _ = settle_counting(monkeypatch)
    assert batch.commission_count == 40 == Commission.objects.filter(batch=batch).count()
    settled = Message.objects.filter(kind="commission_settled")
    assert settled.count() == len(people) == 8
    for person in people:
        (body,) = settled.filter(user=person.user).values_list("body", flat=True)
        total = ledger_sum(person)
        assert body == f"本次结算佣金 ¥{total // 100}.{total % 100:02d}，已计入可提现余额。"
    # Each went out on WeChat (the sandbox), by the task after the run.
    outbox = Delivery.objects.filter(message__in=settled)
    assert set(outbox.values_list("channel", "status")) == {("wechat", "sent")}
    assert outbox.count() == 8


def test_the_notices_cost_the_same_statements_for_many_distributors_as_for_one(monkeypatch):
    shop(chains=1, lines=1)
    _, few_total, few = settle_counting(monkeypatch)
    shop(chains=6, lines=3)
    _, many_total, many = settle_counting(monkeypatch)
    assert Message.objects.filter(kind="commission_settled").count() == 2 + 12
    # The messages with their outbox rows (one statement on PostgreSQL; on SQLite the
    # messages, their ids read back, their outbox rows): the same statements whatever the
    # number...
    assert len(few) == len(many) == (1 if connection.vendor == "postgresql" else 3)
    # ...and the whole run as many statements as for one chain and one line.
    assert many_total == few_total
