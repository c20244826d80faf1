"""Two checkouts with the same client token at the same moment (an app's retry racing its
first request): one order, its stock, coupon and store credit taken once; both requests
answer with that order."""

from fenxiao.catalog.models import Sku
from fenxiao.customers.models import WalletEntry
from fenxiao.customers.services import wallet
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.testing import api_for, make_address, make_buyer, make_product, postgres_only_marks, run_together

pytestmark = postgres_only_marks()


def test_the_same_token_at_once_places_one_order():
    OrderSettings.current()
    buyer = make_buyer()
    address = make_address(buyer)
    wallet.credit(buyer.pk, 100000, source_key="top-up:race", note="充值")
    sku = make_product(price=3000, stock=50).skus.get()
    clients = [api_for(buyer) for _ in range(6)]
    payload = {
        "lines": [{"sku_id": sku.pk, "quantity": 1}],
        "address_id": address.pk,
        "use_wallet": True,
        "client_token": "retry-0001-abcdef",
    }

    replies = run_together(6, lambda i: clients[i].post("/checkout", payload))

    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert {r.status_code for r in replies} == {201}
    assert len({r.json()["number"] for r in replies}) == 1
    order = Order.objects.get(buyer=buyer)
    assert order.wallet_amount == order.total
    assert Sku.objects.get(pk=sku.pk).stock == 49
    assert WalletEntry.objects.filter(user=buyer, amount__lt=0).count() == 1
