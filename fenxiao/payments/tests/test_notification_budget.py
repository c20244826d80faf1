"""Applying a payment notification costs a fixed number of queries, however many lines the
order has, with the distribution settings read once and the category tree read only when a
category rule could decide a commission."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.customers.models import Address
from fenxiao.distribution.models import Commission, CommissionRule, RuleKind
from fenxiao.distribution.services import config
from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor
from fenxiao.orders.models import Order
from fenxiao.orders.services import checkout
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import make_address, make_category, make_product

pytestmark = pytest.mark.django_db

NOTIFY_URL = "/api/v1/payments/notify/sandbox"

# The payment row (locked), its move to succeeded (in a savepoint: 3), the order (locked),
# its move to paid, its event, its lines; the attribution with its distributors, the
# distribution settings (once), the active rules, the tiers, the stores' 导购 rates, the
# abuse guards' reads (the people's phones, address books, payout accounts and devices, the
# buyer's recent refunds: 5), the commissions, the running totals; the distributors' notice
# with its outbox rows (one statement on PostgreSQL, three elsewhere); who subscribes to
# order.paid; the payment marked applied; the transaction (2); after commit the sales
# counts, the customer figures and the notice's delivery task (tests run tasks at once);
# the notification's log row.
EXPECTED = {"postgresql": 46, "sqlite": 48}


def _order(buyer, products):
    address = Address.objects.filter(user=buyer).first() or make_address(buyer)
    order = checkout.place_order(buyer, [(p.skus.get().pk, 1) for p in products], address_id=address.pk)
    trade = SandboxGateway().complete_trade(start_payment(order, "sandbox").out_trade_no, notify=False)
    return order, trade


def _notify(trade) -> list[str]:
    body, headers = SandboxGateway().build_notification(trade)
    extra = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"
    }
    with CaptureQueriesContext(connection) as ctx:
        reply = Client().post(NOTIFY_URL, body, content_type="application/json", **extra)
    assert reply.status_code == 200, reply.content
    assert reply.json()["outcome"] == "accepted"
    return [q["sql"] for q in ctx.captured_queries]


def _reads(sqls: list[str], table: str) -> int:
    return sum(1 for sql in sqls if sql.lstrip().startswith("SELECT") and f'FROM "{table}"' in sql)


def _paid(buyer, products) -> list[str]:
    order, trade = _order(buyer, products)
    sqls = _notify(trade)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_SHIPMENT
    return sqls


def test_applying_a_notification_is_flat_in_lines():
    level2 = make_distributor()
    buyer = bound_buyer(make_distributor(parent=level2))
    category = make_category()
    _paid(buyer, [make_product(category=category)])  # one-off rows (totals, figures) out of the counts
    two = [make_product(category=category) for _ in range(2)]
    # Twelve lines: their 24 commissions still fit one SQLite insert (999 parameters).
    twelve = [make_product(category=category) for _ in range(12)]

    small = _paid(buyer, two)
    large = _paid(buyer, twelve)

    assert len(large) == len(small)
    assert len(small) == EXPECTED[connection.vendor], "\n".join(small)
    assert _reads(small, "distribution_distributionsettings") == 1
    # No category rule: the tree and the products' categories are not read.
    assert _reads(small, "catalog_category") == 0
    assert Commission.objects.filter(order_line__product__in=twelve).count() == 24  # two levels


def test_a_category_rule_still_decides_and_stays_flat_in_lines():
    buyer = bound_buyer(make_distributor())
    parent = make_category()
    child = make_category("T恤", parent=parent)
    config.save_rule(CommissionRule(name="大类", category=parent, kind=RuleKind.RATE, level1=2000))
    _paid(buyer, [make_product(category=child)])
    two = [make_product(category=child) for _ in range(2)]
    twelve = [make_product(category=child) for _ in range(12)]

    small = _paid(buyer, two)
    large = _paid(buyer, twelve)

    assert len(large) == len(small)
    # The tree and the products' categories: two reads more than without a category rule.
    assert _reads(small, "catalog_category") == 1
    rates = set(Commission.objects.filter(order_line__product__in=twelve).values_list("rate_bp", flat=True))
    assert rates == {2000}  # the parent category's rule, found up the tree
