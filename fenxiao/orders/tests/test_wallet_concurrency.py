"""Store credit under racing checkouts, on PostgreSQL: a wallet never goes below zero."""

from fenxiao.customers.errors import WalletInsufficient
from fenxiao.customers.models import WalletEntry
from fenxiao.customers.services import wallet
from fenxiao.orders.models import Order
from fenxiao.orders.services import checkout
from fenxiao.testing import make_address, make_buyer, make_product, postgres_only_marks, run_together

pytestmark = postgres_only_marks()


def test_racing_checkouts_spend_the_wallet_exactly_once_and_never_overdraw():
    buyer = make_buyer()
    address = make_address(buyer)
    WalletEntry.objects.create(user=buyer, amount=10000, source_key="topup:1")
    # A product each, so nothing but the wallet makes the checkouts wait for one another.
    skus = [make_product(f"茶具{i}", price=3000, stock=100).skus.get() for i in range(8)]

    results = run_together(
        8,
        lambda i: checkout.place_order(buyer, [(skus[i].pk, 1)], address_id=address.pk, use_wallet=True),
    )
    assert all(isinstance(r, Order) for r in results), results
    orders = Order.objects.filter(buyer=buyer)
    taken = sorted(orders.values_list("wallet_amount", flat=True))
    # ¥100.00 of credit over eight ¥30.00 orders: three paid in full, one in part, four not.
    assert taken == [0, 0, 0, 0, 1000, 3000, 3000, 3000]
    assert orders.filter(status="pending_shipment").count() == 3
    assert wallet.balance(buyer.pk) == 0
    assert WalletEntry.objects.filter(user=buyer, amount__lt=0).count() == 4


def test_racing_exact_debits_never_overdraw():
    buyer = make_buyer()
    WalletEntry.objects.create(user=buyer, amount=10000, source_key="topup:2")

    results = run_together(8, lambda i: wallet.debit(buyer.pk, 3000, source_key=f"race:{i}", note="并发扣款"))
    succeeded = [r for r in results if isinstance(r, WalletEntry)]
    refused = [r for r in results if isinstance(r, WalletInsufficient)]
    assert (len(succeeded), len(refused)) == (3, 5), results
    assert wallet.balance(buyer.pk) == 1000
