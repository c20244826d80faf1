"""The cart at phone size: signing in to add, and a total that follows the ticked lines."""

import pytest

from fenxiao.orders.models import CartLine, Order
from fenxiao.orders.services.cart import add_to_cart
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_to_cart_signed_out_goes_to_login_and_back_to_the_product(phones):
    sku = make_product("桂花乌龙", price=6800, stock=20).skus.get()
    buyer = make_buyer("13700000011")
    phone = phones("signed-out")
    page = phone.page
    page.goto(f"/products/{sku.product_id}/")
    page.get_by_role("button", name="加入购物车").click()
    page.wait_for_url("**/login/**")
    assert page.evaluate("location.pathname + location.search") == f"/login/?next=/products/{sku.product_id}/"
    phone.shot("add-to-cart-login")
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**/products/{sku.product_id}/")
    page.get_by_role("heading", name="桂花乌龙").wait_for()
    # Signed in now, the same button adds to the cart.
    page.get_by_role("button", name="加入购物车").click()
    page.get_by_text("已加入购物车").wait_for()
    assert CartLine.objects.get(cart__buyer=buyer).quantity == 1


def test_cart_total_and_checkout_follow_the_ticked_lines(phones, live_server):
    buyer = make_buyer("13700000012")
    make_address(buyer)
    tea = make_product("绿茶", price=3000, stock=20).skus.get()
    cup = make_product("茶杯", price=1250, stock=20).skus.get()
    add_to_cart(buyer, tea.pk, 2)
    add_to_cart(buyer, cup.pk, 1)

    phone = phones("cart")
    page = phone.page
    page.goto("/login/?next=/cart/")
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    total = page.get_by_test_id("cart-total")
    assert total.inner_text() == "¥72.50"

    page.get_by_label("选择 茶杯").uncheck()
    assert total.inner_text() == "¥60.00"
    page.get_by_label("选择 绿茶").uncheck()
    assert total.inner_text() == "¥0.00"
    assert page.get_by_role("button", name="去结算").is_disabled()
    page.get_by_label("选择 绿茶").check()
    assert total.inner_text() == "¥60.00"

    # One more tea: the cart re-renders and the cup stays unticked.
    page.locator(".list-item", has_text="绿茶").get_by_role("button", name="增加").click()
    page.wait_for_function("document.querySelector('[data-testid=cart-total]').textContent === '¥90.00'")
    assert not page.get_by_label("选择 茶杯").is_checked()
    phone.shot("cart-ticked")

    page.get_by_role("button", name="去结算").click()
    assert page.get_by_test_id("checkout-total").inner_text() == "¥90.00"
    assert "茶杯" not in page.locator("main").inner_text()
    assert "csrfmiddlewaretoken" not in page.url
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/pay/")
    order = Order.objects.get(buyer=buyer)
    assert [(line.product_name, line.quantity) for line in order.lines.all()] == [("绿茶", 3)]
    assert order.total == 9000
    assert list(CartLine.objects.filter(cart__buyer=buyer).values_list("sku_id", flat=True)) == [cup.pk]


def test_checkout_with_use_wallet_pays_part_with_store_credit(phones):
    from fenxiao.customers.models import WalletEntry
    from fenxiao.customers.services import wallet

    buyer = make_buyer("13700000013")
    make_address(buyer)
    WalletEntry.objects.create(user=buyer, amount=5000, source_key="withdrawal:test")
    sku = make_product("红茶", price=8800, stock=20).skus.get()

    phone = phones("wallet")
    page = phone.page
    page.goto(f"/login/?next=/checkout/?sku={sku.pk}%26qty=1")
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_test_id("wallet-balance").inner_text() == "¥50.00"
    due = page.get_by_test_id("checkout-due")
    assert due.inner_text() == "¥88.00"
    used = page.get_by_test_id("wallet-used")
    assert used.is_hidden()  # 余额支付 shows only once 使用余额 is ticked
    page.get_by_label("使用余额").check()
    assert due.inner_text() == "¥38.00"
    assert used.is_visible() and used.inner_text() == "-¥50.00"
    phone.shot("checkout-wallet")
    page.get_by_role("button", name="提交订单").click()
    assert page.get_by_test_id("pay-due").inner_text() == "¥38.00"
    page.get_by_role("button", name="立即支付").click()
    assert page.get_by_test_id("pay-amount").inner_text() == "¥38.00"
    page.get_by_role("button", name="确认支付").click()
    page.get_by_test_id("pay-success").wait_for()
    order = Order.objects.get(buyer=buyer)
    assert (order.status, order.paid_amount, order.wallet_amount) == ("pending_shipment", 8800, 5000)
    assert wallet.balance(buyer.pk) == 0


def test_a_line_switches_spec_in_the_cart(phones):
    """选规格: the line's spec opens the product's specs; picking one moves the line, and
    the price follows."""
    from fenxiao.catalog.models import Sku

    product = make_product(
        "亚麻衬衫", price=9900, stock=20, specs_list=[{"颜色": "白色"}, {"颜色": "雾霾蓝"}]
    )
    white, blue = product.skus.order_by("pk")
    Sku.objects.filter(pk=blue.pk).update(price=10900)
    buyer = make_buyer("13700000013")
    add_to_cart(buyer, white.pk, 2)
    phone = phones("cart-spec")
    page = phone.page
    page.goto("/login/?next=/cart/")
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_test_id("spec-switch").locator("summary").click()
    phone.shot("open")
    page.get_by_role("button", name="雾霾蓝").click()
    page.wait_for_function("document.querySelector('[data-testid=cart-total]').textContent === '¥218.00'")
    assert page.get_by_test_id("spec-switch").locator("summary").inner_text().startswith("雾霾蓝")
    assert list(CartLine.objects.filter(cart__buyer=buyer).values_list("sku_id", "quantity")) == [
        (blue.pk, 2)
    ]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
