"""Hot paths run a fixed number of queries, however many products, lines or orders there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.catalog.models import ProductImage
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import cart, checkout
from fenxiao.testing import (
    ApiClient,
    api_for,
    make_address,
    make_buyer,
    make_category,
    make_product,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings_rows():
    # Settings records are created on first use; keep those one-off writes out of the counts
    # by placing one order before anything is measured.
    OrderSettings.current()
    buyer = make_buyer()
    checkout.place_order(buyer, _lines(products_with_images(1)), address_id=make_address(buyer).pk)


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def products_with_images(n, *, category=None, skus=1, images=1):
    category = category or make_category()
    made = []
    for _ in range(n):
        product = make_product(
            category=category, stock=50, specs_list=[{"尺码": f"S{j}"} for j in range(skus)]
        )
        ProductImage.objects.bulk_create(
            [
                ProductImage(
                    product=product,
                    image=f"products/{product.pk}-{k}.jpg",
                    sort_order=k,
                    uuid=f"{product.pk}x{k}",
                )
                for k in range(images)
            ]
        )
        made.append(product)
    return made


def test_product_list_is_flat_in_products(django_assert_num_queries, django_assert_max_num_queries):
    client = ApiClient()
    products_with_images(3, images=2)
    few = count_queries(lambda: client.get("/products"))
    assert few <= 3  # count, page, images
    products_with_images(27, images=3)
    with django_assert_num_queries(few):
        reply = client.get("/products")
    assert len(reply.json()["items"]) == 20
    assert all(item["cover_url"] for item in reply.json()["items"])
    with django_assert_max_num_queries(few + 1):  # + the category tree
        reply = client.get("/products", category=reply.json()["items"][0]["category_id"])
    assert reply.json()["count"] == 27


def test_product_detail_is_flat_in_skus_and_images(django_assert_num_queries):
    client = ApiClient()
    small = products_with_images(1, skus=1, images=1)[0]
    large = products_with_images(1, skus=20, images=20)[0]
    few = count_queries(lambda: client.get(f"/products/{small.pk}"))
    assert few <= 3  # product, images, SKUs
    with django_assert_num_queries(few):
        reply = client.get(f"/products/{large.pk}")
    body = reply.json()
    assert (len(body["skus"]), len(body["image_urls"])) == (20, 20)


def _lines(products):
    return [(p.skus.get().pk, 2) for p in products]


def test_checkout_service_is_flat_in_lines(django_assert_num_queries):
    buyer = make_buyer()
    address = make_address(buyer)
    one = products_with_images(1)
    twenty = products_with_images(20)
    lines_one, lines_twenty = _lines(one), _lines(twenty)

    single = count_queries(lambda: checkout.place_order(buyer, lines_one, address_id=address.pk))
    assert single <= 20
    with django_assert_num_queries(single):
        order = checkout.place_order(buyer, lines_twenty, address_id=address.pk)
    assert order.lines.count() == 20
    assert all(line.image_url for line in order.lines.all())


def test_checkout_api_is_flat_in_lines(django_assert_num_queries):
    buyer = make_buyer()
    address = make_address(buyer)
    client = api_for(buyer)
    client.get("/me")  # the token's once-a-minute "last used" write happens here
    one, twenty = products_with_images(1), products_with_images(20)

    def body(products):
        return {
            "lines": [{"sku_id": s, "quantity": q} for s, q in _lines(products)],
            "address_id": address.pk,
        }

    body_one, body_twenty = body(one), body(twenty)
    single = count_queries(lambda: client.post("/checkout", body_one))
    # The service's budget, plus the token check and reading the order back with its lines.
    assert single <= 20 + 3
    with django_assert_num_queries(single):
        reply = client.post("/checkout", body_twenty)
    assert reply.status_code == 201, reply.content
    assert len(reply.json()["lines"]) == 20
    assert Order.objects.filter(buyer=buyer).count() == 2


def test_checkout_from_cart_is_flat_in_lines(django_assert_num_queries):
    buyer = make_buyer()
    address = make_address(buyer)
    one, twenty = products_with_images(1), products_with_images(20)
    for sku_id, qty in _lines(one) + _lines(twenty):
        cart.add_to_cart(buyer, sku_id, qty)
    lines_one, lines_twenty = _lines(one), _lines(twenty)
    single = count_queries(
        lambda: checkout.place_order(buyer, lines_one, address_id=address.pk, from_cart=True)
    )
    with django_assert_num_queries(single):
        checkout.place_order(buyer, lines_twenty, address_id=address.pk, from_cart=True)
    assert not cart.cart_for(buyer).lines.exists()


def test_order_list_is_flat_in_orders(django_assert_num_queries):
    buyer = make_buyer()
    address = make_address(buyer)
    client = api_for(buyer)
    client.get("/me")
    products = products_with_images(3)
    checkout.place_order(buyer, _lines(products), address_id=address.pk)
    few = count_queries(lambda: client.get("/orders"))
    assert few <= 5  # token, count, orders, lines
    for _ in range(9):
        checkout.place_order(buyer, _lines(products), address_id=address.pk)
    with django_assert_num_queries(few):
        reply = client.get("/orders")
    assert reply.json()["count"] == 10
    assert all(len(order["lines"]) == 3 for order in reply.json()["items"])


def test_order_detail_is_flat_in_lines(django_assert_num_queries):
    buyer = make_buyer()
    address = make_address(buyer)
    client = api_for(buyer)
    client.get("/me")
    small = checkout.place_order(buyer, _lines(products_with_images(1)), address_id=address.pk)
    large = checkout.place_order(buyer, _lines(products_with_images(20)), address_id=address.pk)
    few = count_queries(lambda: client.get(f"/orders/{small.number}"))
    # token, order, lines, discounts, events: an unpaid order has no parcels to read
    assert few == 5
    with django_assert_num_queries(few):
        reply = client.get(f"/orders/{large.number}")
    assert len(reply.json()["lines"]) == 20
    assert reply.json()["parcels"] == []


def test_paid_order_detail_is_flat_in_lines_and_parcels(django_assert_num_queries):
    from fenxiao.orders.services import shipments
    from fenxiao.testing import make_staff, pay_in_sandbox

    buyer = make_buyer()
    address = make_address(buyer)
    client = api_for(buyer)
    client.get("/me")
    staff = make_staff()
    small = checkout.place_order(buyer, _lines(products_with_images(1)), address_id=address.pk)
    large = checkout.place_order(buyer, _lines(products_with_images(20)), address_id=address.pk)
    for order in (small, large):
        pay_in_sandbox(order)
    shipments.ship_parcel(small, staff, carrier="yunda", tracking_number="YD1000000001")
    large_lines = list(large.lines.order_by("id"))
    for i, line in enumerate(large_lines[:3]):
        shipments.ship_parcel(
            large, staff, carrier="yunda", tracking_number=f"YD200000000{i}", lines={line.pk: 2}
        )
    few = count_queries(lambda: client.get(f"/orders/{small.number}"))
    # token, order, lines, discounts, events, parcels with their lines and trail
    assert few == 8
    with django_assert_num_queries(few):
        reply = client.get(f"/orders/{large.number}")
    assert len(reply.json()["lines"]) == 20
    assert len(reply.json()["parcels"]) == 3


def test_polling_an_orders_status_reads_one_row(django_assert_num_queries):
    from fenxiao.testing import pay_in_sandbox

    buyer = make_buyer()
    client = api_for(buyer)
    client.get("/me")
    order = checkout.place_order(buyer, _lines(products_with_images(20)), address_id=make_address(buyer).pk)
    # token, order: not its lines, discounts or trail, however many there are
    with django_assert_num_queries(2):
        waiting = client.get(f"/orders/{order.number}/status").json()
    assert (waiting["status"], waiting["paid"]) == ("pending_payment", False)
    assert waiting["amount_due"] == order.total
    pay_in_sandbox(order)
    with django_assert_num_queries(2):
        paid = client.get(f"/orders/{order.number}/status").json()
    assert (paid["status"], paid["status_display"], paid["paid"]) == ("pending_shipment", "待发货", True)


def test_paying_through_the_api_and_the_cashier_is_flat_in_lines(django_assert_num_queries, monkeypatch):
    from django.test import Client

    from fenxiao.payments import tasks

    # The gateway's notification is counted with the payment itself (above): here it is
    # only queued.
    queued = []
    monkeypatch.setattr(tasks, "deliver_sandbox_notification", queued.append)

    buyer = make_buyer()
    address = make_address(buyer)
    client = api_for(buyer)
    client.get("/me")
    small = checkout.place_order(buyer, _lines(products_with_images(1)), address_id=address.pk)
    large = checkout.place_order(buyer, _lines(products_with_images(20)), address_id=address.pk)

    def pay(order):
        reply = client.post(f"/orders/{order.number}/pay", {"gateway": "sandbox"})
        assert reply.status_code == 200, reply.content
        return reply.json()["pay_url"]

    few = count_queries(lambda: pay(small))
    # token, order; its open payments, then under the order's lock all its attempts; the
    # gateway's trade and the payment, one insert each
    assert few == 9
    with django_assert_num_queries(few):
        pay_url = pay(large)

    cashier = Client()
    with django_assert_num_queries(1):  # the trade
        assert cashier.get(pay_url).status_code == 200
    with django_assert_num_queries(2):  # the trade, then its conditional move to paid
        assert cashier.post(pay_url, {"action": "pay"}).status_code == 200
    from fenxiao.payments.models import SandboxTrade

    trade = SandboxTrade.objects.get(out_trade_no__startswith=large.number)
    assert trade.status == SandboxTrade.Status.PAID
    assert queued == [trade.out_trade_no]
    # Asked again for the same order, the payment opened is the one handed out.
    with django_assert_num_queries(3):  # token, order, its open payments
        assert pay(large) == pay_url


def test_cart_is_flat_in_lines(django_assert_num_queries):
    buyer = make_buyer()
    client = api_for(buyer)
    client.get("/me")
    products = products_with_images(20)
    cart.add_to_cart(buyer, products[0].skus.get().pk, 1)
    few = count_queries(lambda: client.get("/cart"))
    assert few <= 3  # token, lines with SKUs and products
    for product in products[1:]:
        cart.add_to_cart(buyer, product.skus.get().pk, 1)
    with django_assert_num_queries(few):
        reply = client.get("/cart")
    assert len(reply.json()["lines"]) == 20
    assert reply.json()["goods_amount"] == 20 * 9900


def _paid_queries(buyer, address, products) -> int:
    from fenxiao.payments.gateways.sandbox import SandboxGateway, paid_notification
    from fenxiao.payments.services.payments import apply_gateway_payment, start_payment

    order = checkout.place_order(buyer, _lines(products), address_id=address.pk)
    trade = SandboxGateway().complete_trade(start_payment(order, "sandbox").out_trade_no, notify=False)
    queries = count_queries(lambda: apply_gateway_payment("sandbox", paid_notification(trade)))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_SHIPMENT
    return queries


def test_paying_is_flat_in_lines_sales_counts_included():
    from fenxiao.catalog.models import Product
    from fenxiao.distribution.models import Commission
    from fenxiao.distribution.tests.helpers import make_distributor, visit

    buyer = make_buyer()
    visit(buyer, make_distributor())  # commissions are part of the payment too
    two, twenty = products_with_images(2), products_with_images(20)
    address = make_address(buyer)
    small = _paid_queries(buyer, address, two)
    # order, payment, events, commissions (the settings once, the attribution, the rules,
    # the tiers; no category rule, so no category tree), running totals, binding, sales
    # counts (18); the buyer's customer figures (1) and their automatic tags (4, a task
    # tests run at once); the distributor's 新佣金 notice: the message with its outbox row
    # (one statement on PostgreSQL; message, its id, its outbox row elsewhere), and the
    # WeChat delivery task that tests run at once (HUEY immediate) after commit (7); who
    # subscribes to the order.paid webhook (1: none here, so nothing more is written); the
    # stores' own 导购 rates for the order's distributors (1); the abuse guards' reads of
    # the buyer and distributors (phones, address books, payout accounts, devices) and of
    # the buyer's recent refunds (5)
    assert small == {"postgresql": 38}.get(connection.vendor, 40)
    assert _paid_queries(buyer, address, twenty) == small
    assert Commission.objects.filter(order_line__product__in=twenty).count() == 20
    sold = Product.objects.filter(pk__in=[p.pk for p in twenty]).values_list("sales_count", flat=True)
    assert set(sold) == {2}
