"""Settlement invariants when two chunked runs interleave at random over random due and
held commissions, and one of them may die halfway.

Each example rolls back what it did (refunds, suspensions, runs); the shop's orders are
made once. Refunds go through the same services the staff API and the refund task call
(the task's commit callback would be dropped by the rollback, so it is run in line).
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fenxiao.distribution.models import Commission, Distributor, LedgerEntry, SettlementBatch
from fenxiao.distribution.services import ledger, settlement
from fenxiao.orders.services import after_sales
from fenxiao.payments.models import Refund
from fenxiao.payments.services.refunds import execute_refund
from fenxiao.testing import make_product, make_staff

from .helpers import after_freeze, bound_buyer, buy, make_distributor, receive, sku, suspend, travel
from .test_settlement_chunks import assert_books_balance

pytestmark = pytest.mark.django_db

ORDERS = 8  # received one day apart; one more is never received


@pytest.fixture
def shop():
    """Two chains a → b; orders through each of the four distributors, order i received on
    day i with 1 to 3 lines; made once for all examples."""
    a1 = make_distributor()
    b1 = make_distributor(parent=a1)
    a2 = make_distributor()
    b2 = make_distributor(parent=a2)
    people = [b1, b2, a1, a2]
    products = [make_product(price=price) for price in (3000, 7000, 12345)]
    start = timezone.now()
    orders = []
    for i in range(ORDERS):
        with travel(timedelta(days=i)):
            items = [(sku(p), 1 + (i + n) % 2) for n, p in enumerate(products[: 1 + i % 3])]
            orders.append(receive(buy(bound_buyer(people[i % 4]), *items)))
    buy(bound_buyer(b1), (sku(products[0]), 1))  # paid, never received: pending
    return {"people": people, "orders": orders, "start": start, "staff": make_staff(superuser=True)}


def _after_sale(order, staff, refund):
    """None: no after-sale; a percentage: refunded and closed; "open": approved, not paid yet."""
    if refund is None:
        return
    first = order.lines.order_by("pk").first()
    amount = first.paid_amount * (100 if refund == "open" else refund) // 100
    after_sale = after_sales.request_after_sale(
        order,
        staff,
        kind="refund_only",
        reason="随机售后",
        lines=[{"line_id": first.pk, "quantity": 0, "amount": max(1, amount)}],
    )
    if refund != "open":
        for pending in Refund.objects.filter(after_sale=after_sale, status="pending"):
            execute_refund(pending.pk)  # what the refund task does once the approval commits


def _step(gen) -> bool:
    try:
        next(gen)
    except StopIteration:
        return False
    return True


def _run(shop, monkeypatch, days, refunds, suspended, chunk, schedule, dies_after):
    people, orders = shop["people"], shop["orders"]
    for order, refund in zip(orders, refunds, strict=True):
        _after_sale(order, shop["staff"], refund)
    for i in suspended:
        suspend(Distributor.objects.get(pk=people[i].pk))  # fresh: an earlier example rolled back
    monkeypatch.setattr(settlement, "CHUNK", chunk)
    now = after_freeze(now=shop["start"] + timedelta(days=days))
    # What must settle, decided before any run: frozen, order i received by day `days`, no
    # after-sale left open, distributor not suspended.
    day_of = {order.pk: i for i, order in enumerate(orders)}
    after_sale_of = {order.pk: refund for order, refund in zip(orders, refunds, strict=True)}
    paused = {people[i].pk for i in suspended}
    frozen = Commission.objects.filter(status="frozen")
    expected = {
        c.pk
        for c in frozen
        if day_of[c.order_id] <= days
        and after_sale_of[c.order_id] != "open"
        and c.distributor_id not in paused
    }
    held = set(frozen.values_list("pk", flat=True)) - expected

    runs = [settlement._open_run(now), settlement._open_run(now)]
    chunks = [settlement._chunks(batch) for batch in runs]
    live, steps = [True, True], [0, 0]
    for pick in schedule:
        i = int(pick) if live[int(pick)] else 1 - int(pick)
        if not live[i]:
            break
        if i == 0 and steps[0] == dies_after:
            live[0] = False  # the worker died: this run never finishes by itself
            continue
        steps[i] += 1
        if not _step(chunks[i]):
            live[i] = False
            settlement._close(runs[i])
    for i in (0, 1):
        if live[i] and not (i == 0 and steps[0] == dies_after):
            while _step(chunks[i]):
                pass
            settlement._close(runs[i])
    # The sweeper finishes a dead run; nothing is left for it to pay twice.
    settlement.resume_interrupted(timezone.now() + timedelta(minutes=11))

    settled = Commission.objects.filter(status="settled")
    assert set(settled.values_list("pk", flat=True)) == expected
    assert set(Commission.objects.filter(pk__in=held).values_list("status", "batch")) <= {("frozen", None)}
    assert not SettlementBatch.objects.exclude(status="settled").exists()
    assert_books_balance()
    for distributor in people:
        entries = LedgerEntry.objects.filter(distributor=distributor).aggregate(s=Sum("amount"))["s"] or 0
        mine = settled.filter(distributor=distributor)
        assert ledger.balance(distributor.pk) == entries == sum(c.net_amount for c in mine)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days=st.integers(-1, ORDERS),
    refunds=st.lists(
        st.none() | st.none() | st.integers(1, 100) | st.just("open"), min_size=ORDERS, max_size=ORDERS
    ),
    suspended=st.sets(st.integers(0, 3), max_size=2),
    chunk=st.integers(1, 6),
    schedule=st.lists(st.booleans(), max_size=30),
    dies_after=st.none() | st.integers(0, 6),
)
def test_interleaved_chunked_runs_settle_every_due_commission_exactly_once(
    shop, monkeypatch, days, refunds, suspended, chunk, schedule, dies_after
):
    with transaction.atomic():
        try:
            _run(shop, monkeypatch, days, refunds, suspended, chunk, schedule, dies_after)
        finally:
            transaction.set_rollback(True)
