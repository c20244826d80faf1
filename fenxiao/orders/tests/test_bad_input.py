"""Bad input is refused with a 4xx, a code and a Chinese message, and writes nothing:
registration, quantities, unknown or delisted goods, tampered prices, addresses, illegal
state transitions, malformed requests and missing credentials."""

import pytest

from fenxiao.catalog.errors import InvalidQuantity
from fenxiao.catalog.models import Product, Sku
from fenxiao.catalog.services.stock import take_stock
from fenxiao.customers.models import User
from fenxiao.orders.errors import QuantityTooLarge
from fenxiao.orders.models import AfterSale, CartLine, Order
from fenxiao.orders.services import cart, checkout
from fenxiao.payments.models import Payment, Refund, SandboxTrade
from fenxiao.testing import (
    ApiClient,
    api_for,
    assert_refused,
    make_address,
    make_buyer,
    make_staff,
)

from .bad_input import checkout_body, has_chinese, nothing_ordered

pytestmark = pytest.mark.django_db


# --- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "1381234567",
        "138123456789",
        "10012345678",
        "23812345678",
        "abcdefghijk",
        "+1 4155552671",
        "",
        "１３８１２３４５６７",
        "١٣٨١٢٣٤٥٦٧٨",
    ],
)
def test_register_malformed_phone(phone):
    reply = ApiClient().post("/auth/register", {"phone": phone, "password": "Secret#2026", "code": "000000"})
    assert_refused(reply, 400, "INVALID_PHONE")
    assert User.objects.count() == 0


@pytest.mark.parametrize("password", ["abc", "Ab1!", "password", "12345678", "87654321098"])
def test_register_weak_password(password):
    body = {"phone": "13912345678", "password": password, "code": "000000"}
    reply = ApiClient().post("/auth/register", body)
    assert_refused(reply, 400, "WEAK_PASSWORD")
    assert User.objects.count() == 0


def test_short_password_message_is_chinese_and_says_how_long():
    reply = ApiClient().post("/auth/register", {"phone": "13912345678", "password": "Ab1!", "code": "000000"})
    body = assert_refused(reply, 400, "WEAK_PASSWORD")
    assert "8" in body["message"]
    assert "password" not in body["message"].lower()


# --- quantities ------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, -999, 1000, "两个", None, 1.5])
def test_cart_refuses_bad_quantities(shop, quantity):
    client, _, _, sku = shop
    reply = client.post("/cart/lines", {"sku_id": sku.pk, "quantity": quantity})
    assert_refused(reply, 422, "INVALID_INPUT")
    assert CartLine.objects.count() == 0


@pytest.mark.parametrize("quantity", [0, -3])
def test_cart_update_refuses_bad_quantities(shop, quantity):
    client, buyer, _, sku = shop
    line = cart.add_to_cart(buyer, sku.pk, 2)
    reply = client.patch(f"/cart/lines/{line.pk}", {"quantity": quantity})
    assert_refused(reply, 422, "INVALID_INPUT")
    assert CartLine.objects.get().quantity == 2


@pytest.mark.parametrize("quantity", [0, -1, 1000])
def test_checkout_refuses_bad_quantities(shop, quantity):
    client, _, address, sku = shop
    assert_refused(client.post("/checkout", checkout_body(address, sku, quantity)), 422, "INVALID_INPUT")
    assert_refused(
        client.post("/checkout/preview", {"lines": [{"sku_id": sku.pk, "quantity": quantity}]}),
        422,
        "INVALID_INPUT",
    )
    nothing_ordered(sku)


def test_services_refuse_bad_quantities(shop):
    _, buyer, address, sku = shop
    for quantity in (0, -1):
        with pytest.raises(InvalidQuantity):
            cart.add_to_cart(buyer, sku.pk, quantity)
        with pytest.raises(InvalidQuantity):
            checkout.place_order(buyer, [(sku.pk, quantity)], address_id=address.pk)
        with pytest.raises(InvalidQuantity):
            checkout.quote([(sku.pk, quantity)])
        with pytest.raises(InvalidQuantity):
            take_stock({sku.pk: quantity})
    line = cart.add_to_cart(buyer, sku.pk, 1)
    with pytest.raises(InvalidQuantity):
        cart.set_quantity(buyer, line.pk, 0)
    with pytest.raises(QuantityTooLarge):
        cart.add_to_cart(buyer, sku.pk, 1000)
    assert InvalidQuantity().status == 400 and has_chinese(InvalidQuantity().message)
    assert CartLine.objects.get().quantity == 1
    nothing_ordered(sku)


def test_checkout_merges_repeated_lines_before_the_quantity_limit(shop):
    client, _, address, sku = shop
    Sku.objects.filter(pk=sku.pk).update(stock=5000)
    body = {
        "lines": [{"sku_id": sku.pk, "quantity": 600}, {"sku_id": sku.pk, "quantity": 600}],
        "address_id": address.pk,
    }
    assert_refused(client.post("/checkout", body), 400, "QUANTITY_TOO_LARGE")
    nothing_ordered(sku, 5000)


def test_checkout_more_than_in_stock(shop):
    client, _, address, sku = shop
    body = assert_refused(
        client.post("/checkout", checkout_body(address, sku, 11)), 409, "STOCK_INSUFFICIENT"
    )
    assert "剩10件" in body["message"]
    nothing_ordered(sku)


def test_checkout_with_no_lines(shop):
    client, _, address, sku = shop
    assert_refused(client.post("/checkout", {"lines": [], "address_id": address.pk}), 422, "INVALID_INPUT")
    nothing_ordered(sku)


# --- unknown, delisted, inactive ---------------------------------------------------------------


@pytest.mark.parametrize("sku_id", [987654, 2**62])
def test_unknown_sku(shop, sku_id):
    client, _, address, sku = shop
    assert_refused(client.post("/cart/lines", {"sku_id": sku_id, "quantity": 1}), 404, "SKU_NOT_FOUND")
    body = {
        "lines": [{"sku_id": sku.pk, "quantity": 1}, {"sku_id": sku_id, "quantity": 1}],
        "address_id": address.pk,
    }
    assert_refused(client.post("/checkout", body), 404, "SKU_NOT_FOUND")
    assert CartLine.objects.count() == 0
    nothing_ordered(sku)


@pytest.mark.parametrize("sku_id", [0, -5, 2**64, 10**30])
def test_impossible_sku_ids(shop, sku_id):
    client, _, address, sku = shop
    assert_refused(client.post("/cart/lines", {"sku_id": sku_id, "quantity": 1}), 422, "INVALID_INPUT")
    body = {"lines": [{"sku_id": sku_id, "quantity": 1}], "address_id": address.pk}
    assert_refused(client.post("/checkout", body), 422, "INVALID_INPUT")
    assert_refused(
        client.post("/checkout", {**checkout_body(address, sku), "address_id": sku_id}), 422, "INVALID_INPUT"
    )
    nothing_ordered(sku)


def test_delisted_product(shop):
    client, _, address, sku = shop
    Product.objects.filter(pk=sku.product_id).update(is_listed=False)
    body = assert_refused(
        client.post("/cart/lines", {"sku_id": sku.pk, "quantity": 1}), 409, "PRODUCT_DELISTED"
    )
    assert "帆布包" in body["message"]
    assert_refused(client.post("/checkout", checkout_body(address, sku)), 409, "PRODUCT_DELISTED")
    assert CartLine.objects.count() == 0
    nothing_ordered(sku)


def test_inactive_sku(shop):
    client, _, address, sku = shop
    Sku.objects.filter(pk=sku.pk).update(is_active=False)
    assert_refused(client.post("/cart/lines", {"sku_id": sku.pk, "quantity": 1}), 409, "PRODUCT_DELISTED")
    assert_refused(client.post("/checkout", checkout_body(address, sku)), 409, "PRODUCT_DELISTED")
    nothing_ordered(sku)


def test_delisted_after_adding_to_cart(shop):
    client, buyer, address, sku = shop
    cart.add_to_cart(buyer, sku.pk, 2)
    Product.objects.filter(pk=sku.product_id).update(is_listed=False)
    shown = client.get("/cart").json()
    assert shown["lines"][0]["available"] is False
    assert shown["goods_amount"] == 0
    assert_refused(
        client.post("/checkout", checkout_body(address, sku, 2, from_cart=True)), 409, "PRODUCT_DELISTED"
    )
    assert CartLine.objects.count() == 1  # the cart is kept for when it is back on sale
    nothing_ordered(sku)


# --- price tampering --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra", [{"price": 1}, {"unit_price": 1}, {"subtotal": 1}, {"discount_share": 4999}]
)
def test_price_in_a_checkout_line_is_refused(shop, extra):
    client, _, address, sku = shop
    body = {"lines": [{"sku_id": sku.pk, "quantity": 1, **extra}], "address_id": address.pk}
    reply = assert_refused(client.post("/checkout", body), 422, "INVALID_INPUT")
    assert reply["details"][0]["field"].startswith("lines.0")
    nothing_ordered(sku)


@pytest.mark.parametrize(
    "extra",
    [
        {"total": 1},
        {"goods_amount": 1},
        {"discount_amount": 4999},
        {"shipping_fee": 0},
        {"paid_amount": 5000},
        {"status": "pending_shipment"},
    ],
)
def test_price_in_the_checkout_body_is_refused(shop, extra):
    client, _, address, sku = shop
    assert_refused(client.post("/checkout", checkout_body(address, sku, **extra)), 422, "INVALID_INPUT")
    nothing_ordered(sku)


def test_price_in_cart_line_is_refused(shop):
    client, _, _, sku = shop
    reply = client.post("/cart/lines", {"sku_id": sku.pk, "quantity": 1, "price": 1})
    assert_refused(reply, 422, "INVALID_INPUT")
    assert CartLine.objects.count() == 0


@pytest.mark.parametrize("expected_total", [1, 4999, 5001, 0])
def test_wrong_expected_total(shop, expected_total):
    client, _, address, sku = shop
    reply = client.post("/checkout", checkout_body(address, sku, expected_total=expected_total))
    body = assert_refused(reply, 409, "PRICE_CHANGED")
    assert body["details"] == {"expected_total": expected_total, "total": 5000}
    nothing_ordered(sku)


def test_price_raised_between_preview_and_checkout(shop):
    client, _, address, sku = shop
    shown = client.post("/checkout/preview", {"lines": [{"sku_id": sku.pk, "quantity": 2}]})
    assert shown.json()["total"] == 10000
    Sku.objects.filter(pk=sku.pk).update(price=6000)
    reply = client.post("/checkout", checkout_body(address, sku, 2, expected_total=10000))
    assert_refused(reply, 409, "PRICE_CHANGED")
    nothing_ordered(sku)
    placed = client.post("/checkout", checkout_body(address, sku, 2, expected_total=12000))
    assert placed.status_code == 201
    assert placed.json()["total"] == 12000


# --- addresses ---------------------------------------------------------------------------------


def test_someone_elses_address(shop):
    client, _, _, sku = shop
    other = make_address(make_buyer(), recipient="别人")
    reply = client.post("/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": other.pk})
    assert_refused(reply, 404, "ADDRESS_NOT_FOUND")
    assert_refused(
        client.post("/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": 987654}),
        404,
        "ADDRESS_NOT_FOUND",
    )
    nothing_ordered(sku)


# --- illegal state transitions ----------------------------------------------------------------


@pytest.fixture
def staff_client():
    return api_for(make_staff(perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]))


def place(client, address, sku, quantity=1):
    reply = client.post("/checkout", checkout_body(address, sku, quantity))
    assert reply.status_code == 201, reply.content
    return reply.json()["number"]


def pay(client, number):
    pay = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"}).json()
    client.client.post(pay["pay_url"].replace("http://testserver", ""), {"action": "pay"})
    assert Order.objects.get(number=number).status == "pending_shipment"


def test_ship_an_unpaid_order(shop, staff_client):
    client, _, address, sku = shop
    number = place(client, address, sku)
    reply = staff_client.post(f"/staff/orders/{number}/ship", {"carrier": "顺丰", "tracking_number": "SF1"})
    assert_refused(reply, 409, "INVALID_STATE_TRANSITION")
    order = Order.objects.get(number=number)
    assert (order.status, order.carrier, order.shipped_at) == ("pending_payment", "", None)


def test_ship_without_carrier(shop, staff_client):
    client, _, address, sku = shop
    number = place(client, address, sku)
    pay(client, number)
    reply = staff_client.post(f"/staff/orders/{number}/ship", {"carrier": " ", "tracking_number": " "})
    assert_refused(reply, 400, "SHIPMENT_INVALID")
    assert Order.objects.get(number=number).status == "pending_shipment"


def test_confirm_receipt_of_an_unshipped_order(shop):
    client, _, address, sku = shop
    unpaid = place(client, address, sku)
    assert_refused(client.post(f"/orders/{unpaid}/confirm-receipt"), 409, "INVALID_STATE_TRANSITION")
    assert Order.objects.get(number=unpaid).status == "pending_payment"
    paid = place(client, address, sku)
    pay(client, paid)
    assert_refused(client.post(f"/orders/{paid}/confirm-receipt"), 409, "INVALID_STATE_TRANSITION")
    order = Order.objects.get(number=paid)
    assert (order.status, order.completed_at) == ("pending_shipment", None)


def test_cancel_a_shipped_order(shop, staff_client):
    client, _, address, sku = shop
    number = place(client, address, sku)
    pay(client, number)
    staff_client.post(f"/staff/orders/{number}/ship", {"carrier": "顺丰", "tracking_number": "1"})
    body = assert_refused(
        client.post(f"/orders/{number}/cancel", {"reason": "不要了"}), 409, "INVALID_STATE_TRANSITION"
    )
    assert "售后" in body["message"]
    order = Order.objects.get(number=number)
    assert (order.status, order.refunded_amount) == ("shipped", 0)
    assert Refund.objects.count() == 0
    assert Sku.objects.get(pk=sku.pk).stock == 9


def test_approve_a_rejected_after_sale(shop, staff_client):
    client, _, address, sku = shop
    number = place(client, address, sku)
    pay(client, number)
    line = Order.objects.get(number=number).lines.get()
    requested = client.post(
        f"/orders/{number}/after-sales",
        {"kind": "refund_only", "reason": "不想要了", "lines": [{"line_id": line.pk}]},
    ).json()
    staff_client.post(f"/staff/after-sales/{requested['number']}/reject", {"reason": "已发货"})
    reply = staff_client.post(f"/staff/after-sales/{requested['number']}/approve")
    assert_refused(reply, 409, "INVALID_STATE_TRANSITION")
    assert AfterSale.objects.get().status == "rejected"
    assert Refund.objects.count() == 0
    assert Order.objects.get(number=number).refunded_amount == 0


def test_pay_a_cancelled_order(shop):
    client, _, address, sku = shop
    number = place(client, address, sku)
    client.post(f"/orders/{number}/cancel", {"reason": "拍错了"})
    reply = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"})
    assert_refused(reply, 409, "PAYMENT_NOT_ALLOWED")
    assert Payment.objects.count() == 0
    assert SandboxTrade.objects.count() == 0
    assert Order.objects.get(number=number).status == "cancelled"


def test_pay_a_paid_order_or_with_an_unknown_gateway(shop):
    client, _, address, sku = shop
    number = place(client, address, sku)
    assert_refused(
        client.post(f"/orders/{number}/pay", {"gateway": "bitcoin"}), 400, "PAYMENT_GATEWAY_UNAVAILABLE"
    )
    assert Payment.objects.count() == 0
    pay(client, number)
    assert_refused(client.post(f"/orders/{number}/pay", {"gateway": "sandbox"}), 409, "PAYMENT_NOT_ALLOWED")
    assert Payment.objects.count() == 1


# --- malformed requests and missing credentials ------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["{", '{"lines": [', "\xff\xfe", "[1, 2]", '"x"', "null", "", '{"lines": "all"}']
)
def test_malformed_json_is_a_4xx(shop, raw):
    client, _, _, sku = shop
    headers = client._headers()
    for path in (
        "/api/v1/checkout",
        "/api/v1/cart/lines",
        "/api/v1/addresses",
        "/api/v1/auth/register",
        "/api/v1/auth/login",
    ):
        reply = client.client.post(path, raw, content_type="application/json", **headers)
        assert 400 <= reply.status_code < 500, (path, reply.status_code)
        body = reply.json()
        assert body["code"] in {"BAD_REQUEST", "INVALID_INPUT"}
        assert has_chinese(body["message"])
    assert CartLine.objects.count() == 0
    nothing_ordered(sku)


def test_form_encoded_body_is_a_4xx(shop):
    client, _, address, sku = shop
    reply = client.client.post("/api/v1/checkout", {"address_id": address.pk}, **client._headers())
    assert 400 <= reply.status_code < 500
    nothing_ordered(sku)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/me"),
        ("get", "/cart"),
        ("post", "/cart/lines"),
        ("post", "/checkout"),
        ("post", "/checkout/preview"),
        ("get", "/orders"),
        ("get", "/orders/X1"),
        ("post", "/orders/X1/pay"),
        ("post", "/orders/X1/cancel"),
        ("get", "/after-sales"),
        ("get", "/addresses"),
        ("post", "/auth/logout"),
        ("post", "/staff/orders/X1/ship"),
        ("post", "/staff/after-sales/AS1/approve"),
    ],
)
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_unauthenticated_calls(shop, method, path, token):
    _, _, _, sku = shop
    client = ApiClient(token)
    reply = client.get(path) if method == "get" else client.post(path, {})
    assert_refused(reply, 401, "UNAUTHORIZED")
    nothing_ordered(sku)
