"""H5 behaviour a buyer notices: signing in to add to the cart, the cart's ticked lines,
forms that keep what was typed, and no CSRF token in any URL."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.models import Withdrawal
from fenxiao.distribution.services import distributors
from fenxiao.orders.models import AfterSale, CartLine, Order
from fenxiao.orders.services.cart import add_to_cart
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_add_to_cart_signed_out_with_htmx_sends_the_page_to_login_and_back():
    sku = make_product("围巾", price=5900).skus.get()
    page = f"/products/{sku.product_id}/"
    reply = Client().post(
        "/cart/add/", {"sku": sku.pk, "qty": 1}, HTTP_HX_CURRENT_URL=f"http://testserver{page}", **HTMX
    )
    # A plain redirect would be followed inside the XHR and swapped into nothing.
    assert reply.status_code == 200
    assert reply["HX-Redirect"] == f"/login/?next=/products/{sku.product_id}/"
    assert CartLine.objects.count() == 0
    login = Client().get(reply["HX-Redirect"])
    assert f'name="next" value="{page}"' in login.content.decode()


def test_add_to_cart_signed_out_without_javascript_goes_to_login_and_back_to_the_product():
    sku = make_product("围巾", price=5900).skus.get()
    page = f"/products/{sku.product_id}/"
    client = Client()
    reply = client.post("/cart/add/", {"sku": sku.pk}, HTTP_REFERER=f"http://testserver{page}")
    assert reply.status_code == 302
    assert reply["Location"] == f"/login/?next={page}"
    buyer = make_buyer()
    signed = client.post("/login/", {"phone": buyer.phone, "password": "Buyer#2026", "next": page})
    assert signed["Location"] == page
    # A foreign referrer is never a place to come back to.
    away = Client().post("/cart/add/", {"sku": sku.pk}, HTTP_REFERER="https://evil.example/x")
    assert away["Location"] == "/login/?next=/"


def test_buy_now_never_puts_the_csrf_token_in_a_url():
    sku = make_product("围巾", price=5900).skus.get()
    client = Client(enforce_csrf_checks=True)
    html = client.get(f"/products/{sku.product_id}/").content.decode()
    assert 'formmethod="get"' not in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    reply = client.post("/checkout/buy/", {"csrfmiddlewaretoken": token, "sku": sku.pk, "qty": 2})
    assert reply.status_code == 302
    assert reply["Location"] == f"/checkout/?sku={sku.pk}&qty=2"
    login = client.get(reply["Location"])  # signed out: sign in first, then back here
    assert "csrfmiddlewaretoken" not in login["Location"]
    assert Client().get("/checkout/buy/").status_code == 405


def test_no_page_has_a_get_form_carrying_the_csrf_token():
    buyer = make_buyer()
    make_address(buyer)
    sku = make_product("围巾", price=5900).skus.get()
    add_to_cart(buyer, sku.pk, 1)
    client = signed_in(buyer)
    for url in ["/", f"/products/{sku.product_id}/", "/cart/", f"/checkout/?sku={sku.pk}&qty=1", "/me/"]:
        html = client.get(url).content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S):
            if "csrfmiddlewaretoken" in form:
                opening = form.split(">", 1)[0]
                assert 'method="post"' in opening and 'formmethod="get"' not in form, (url, opening)


@pytest.fixture
def two_lines():
    buyer = make_buyer()
    make_address(buyer)
    tea = make_product("绿茶", price=3000).skus.get()
    cup = make_product("茶杯", price=1250).skus.get()
    add_to_cart(buyer, tea.pk, 2)
    add_to_cart(buyer, cup.pk, 1)
    line_tea = CartLine.objects.get(sku=tea)
    line_cup = CartLine.objects.get(sku=cup)
    return buyer, line_tea, line_cup


def total_on(html: str) -> str:
    return re.search(r'data-testid="cart-total">([^<]+)<', html).group(1)


def test_cart_total_follows_the_ticked_lines_across_quantity_changes(two_lines):
    buyer, tea, cup = two_lines
    client = signed_in(buyer)
    assert total_on(client.get("/cart/").content.decode()) == "¥72.50"
    # The cup is unticked, then the tea's quantity changes: the cup stays unticked.
    reply = client.post(f"/cart/lines/{tea.pk}/", {"selection": "1", "line": [tea.pk], "quantity": 3}, **HTMX)
    html = reply.content.decode()
    assert total_on(html) == "¥90.00"
    assert re.search(rf'value="{cup.pk}" data-subtotal="1250"\s*aria-label', html)
    assert re.search(rf'value="{tea.pk}" data-subtotal="9000" checked', html)
    # Nothing ticked: nothing to pay, and the checkout button is off.
    reply = client.post(f"/cart/lines/{tea.pk}/", {"selection": "1", "quantity": 3}, **HTMX)
    assert total_on(reply.content.decode()) == "¥0.00"
    assert re.search(r"data-checkout-link\s+disabled", reply.content.decode())


def test_checkout_takes_only_the_ticked_lines(two_lines):
    buyer, tea, cup = two_lines
    client = signed_in(buyer)
    # What the cart form submits: the ticked line ids only.
    page = client.get("/checkout/", {"selection": "1", "line": [cup.pk]})
    assert page.status_code == 200
    html = page.content.decode()
    assert "茶杯" in html and "绿茶" not in html
    assert re.search(r'data-testid="checkout-total">¥12.50<', html)
    assert f'action="/checkout/?lines={cup.pk}"' in html
    placed = client.post(f"/checkout/?lines={cup.pk}", {"expected_total": 1250})
    assert placed.status_code == 302, placed.content
    order = Order.objects.get(buyer=buyer)
    assert [line.product_name for line in order.lines.all()] == ["茶杯"]
    assert (order.goods_amount, order.status) == (1250, "pending_payment")
    assert list(CartLine.objects.filter(cart__buyer=buyer).values_list("pk", flat=True)) == [tea.pk]


def test_after_sale_form_keeps_what_the_buyer_typed_when_refused():
    from fenxiao.orders.services import checkout

    buyer = make_buyer()
    address = make_address(buyer)
    sku = make_product("围巾", price=5900).skus.get()
    order = checkout.place_order(buyer, [(sku.pk, 2)], address_id=address.pk)
    pay_in_sandbox(order)
    line = order.lines.get()
    client = signed_in(buyer)
    reply = client.post(
        f"/orders/{order.number}/after-sale/",
        {
            "kind": "refund_only",
            "reason_code": "other",
            "description": "颜色和图片不一样",
            f"line_{line.pk}": "1",
            f"qty_{line.pk}": "1",
            f"amount_{line.pk}": "200.00",  # more than the line paid
        },
    )
    assert reply.status_code == 400
    html = reply.content.decode()
    assert "退款金额不能超过" in html
    assert ">颜色和图片不一样</textarea>" in html
    assert re.search(r'value="other"[^>]*selected', html)
    assert f'name="line_{line.pk}" value="1" checked' in html
    assert re.search(rf'name="qty_{line.pk}"[^>]*value="1"', html)
    assert re.search(rf'name="amount_{line.pk}"[^>]*value="200.00"', html)
    assert AfterSale.objects.count() == 0
    # A fresh form starts empty, but for the order's only item, which always comes ticked.
    fresh = client.get(f"/orders/{order.number}/after-sale/").content.decode()
    assert "颜色和图片不一样" not in fresh
    assert not re.search(rf'name="qty_{line.pk}"[^>]*value="1"', fresh)
    assert not re.search(rf'name="amount_{line.pk}"[^>]*value="200.00"', fresh)


def test_withdrawal_form_keeps_what_the_distributor_typed_when_refused():
    user = make_buyer()
    distributors.designate(user, make_staff())
    client = signed_in(user)
    typed = {
        "amount": "88.80",
        "method": "bank",
        "name": "刘分享",
        "account": "6222020200001234",
        "bank": "工商银行",
    }
    reply = client.post("/d/withdraw/", typed)
    assert reply.status_code == 400
    html = reply.content.decode()
    assert '<ul class="messages"' in html  # the reason is shown (the balance is ¥0.00)
    for field in ("amount", "name", "account", "bank"):
        assert re.search(rf'name="{field}"[^>]*value="{re.escape(typed[field])}"', html), field
    assert re.search(r'<option value="bank" selected>', html)
    assert Withdrawal.objects.count() == 0


def test_h5_checkout_paid_in_full_by_store_credit_skips_the_cashier():
    from fenxiao.customers.models import WalletEntry
    from fenxiao.customers.services import wallet

    buyer = make_buyer()
    make_address(buyer)
    WalletEntry.objects.create(user=buyer, amount=9000, source_key="withdrawal:h5")
    sku = make_product("围巾", price=5900).skus.get()
    client = signed_in(buyer)
    page = client.get(f"/checkout/?sku={sku.pk}&qty=1").content.decode()
    assert 'data-testid="wallet-balance">¥90.00<' in page
    assert 'name="use_wallet"' in page
    placed = client.post(f"/checkout/?sku={sku.pk}&qty=1", {"expected_total": 5900, "use_wallet": "1"})
    order = Order.objects.get(buyer=buyer)
    assert placed["Location"] == f"/orders/{order.number}/result/"
    assert (order.status, order.wallet_amount, order.paid_amount) == ("pending_shipment", 5900, 5900)
    assert wallet.balance(buyer.pk) == 3100
    # Without a balance there is no toggle at all.
    other = make_buyer()
    make_address(other)
    assert 'name="use_wallet"' not in signed_in(other).get(f"/checkout/?sku={sku.pk}&qty=1").content.decode()


def test_checkout_with_an_out_of_range_sku_is_refused_without_a_server_error():
    buyer = make_buyer()
    make_address(buyer)
    client = signed_in(buyer)
    reply = client.get("/checkout/?sku=99999999999999999999&qty=1", follow=True)
    assert reply.status_code == 200
    assert "请选择要购买的商品" in reply.content.decode()
    assert Order.objects.count() == 0


def test_a_cart_action_after_the_session_ended_sends_the_page_to_login():
    reply = Client().post(
        "/cart/lines/1/", {"quantity": 2}, HTTP_HX_CURRENT_URL="http://testserver/cart/", **HTMX
    )
    assert (reply.status_code, reply["HX-Redirect"]) == (200, "/login/?next=/cart/")


@pytest.mark.parametrize("qty", ["0", "-5", "abc", "", "2.5"])
def test_a_quantity_that_is_not_a_whole_number_from_one_is_refused_not_made_one(qty):
    sku = make_product("围巾", price=5900).skus.get()
    client = signed_in(make_buyer())
    toast = client.post("/cart/add/", {"sku": sku.pk, "qty": qty}, **HTMX)
    assert "购买数量必须大于0" in toast.content.decode()
    plain = client.post("/cart/add/", {"sku": sku.pk, "qty": qty}, follow=True)
    assert "购买数量必须大于0" in plain.content.decode()
    assert CartLine.objects.count() == 0
    # 立即购买 from the same form: refused the same way, no checkout of one.
    now = client.post("/checkout/buy/", {"sku": sku.pk, "qty": qty}, follow=True)
    assert now.redirect_chain[-1][0] == "/" and "请选择商品规格和数量" in now.content.decode()


def test_a_whole_quantity_or_none_at_all_goes_in_the_cart():
    sku = make_product("围巾", price=5900).skus.get()
    buyer = make_buyer()
    client = signed_in(buyer)
    client.post("/cart/add/", {"sku": sku.pk, "qty": " 2 "}, **HTMX)
    client.post("/cart/add/", {"sku": sku.pk}, **HTMX)  # a form without a quantity: one
    assert CartLine.objects.get(cart__buyer=buyer).quantity == 3
