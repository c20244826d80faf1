"""Every H5 page at phone size: loads without console errors, nothing wider than the screen,
a screenshot of each in test-artifacts/. Then the same pages at 320 px and at desktop width."""

import pytest

from fenxiao.distribution.services import distributors
from fenxiao.orders.services import checkout
from fenxiao.payments.services.payments import start_payment
from fenxiao.storefront.models import Banner
from fenxiao.storefront.tests.test_browser import product_with_image
from fenxiao.testing import make_address, make_buyer, make_staff, pay_in_sandbox
from fenxiao.testing_browser import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC = {
    "home": "/",
    "categories": "/categories/",
    "search": "/search/?q=茶",
    "login": "/login/",
    "register": "/register/",
}
SIGNED_IN = {
    "me": "/me/",
    "cart": "/cart/",
    "orders": "/orders/",
    "addresses": "/me/addresses/",
    "trail": "/me/trail/",
    "address-new": "/me/addresses/new/",
    "distribution": "/d/",
    "commissions": "/d/commissions/",
    "team": "/d/team/",
    "rankings": "/d/rankings/",
    "withdraw": "/d/withdraw/",
    "share-shop": "/d/share/",
}


@pytest.fixture
def shop(settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = live_server.url
    tea = product_with_image()
    Banner.objects.create(title="新茶上市", subtitle="满 99 包邮")
    user = make_buyer("13500000001", password="Secret#2026", nickname="茶小二")
    make_address(user)
    distributors.designate(user, make_staff())
    sku = tea.skus.get()
    from fenxiao.orders.services.cart import add_to_cart

    add_to_cart(user, sku.pk, 2)
    address = user.addresses.get().pk
    order = checkout.place_order(user, [(sku.pk, 1)], address_id=address)
    payment = start_payment(order, "sandbox")
    paid = checkout.place_order(user, [(sku.pk, 1)], address_id=address)
    pay_in_sandbox(paid)
    return {"tea": tea, "sku": sku, "order": order, "payment": payment, "paid": paid}


def sign_in(phone):
    page = phone.page
    page.goto("/login/")
    page.get_by_label("手机号").fill("13500000001")
    page.get_by_label("密码").fill("Secret#2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("我的订单").wait_for()


def all_pages(shop) -> dict[str, str]:
    tea, sku, order, paid = shop["tea"], shop["sku"], shop["order"], shop["paid"]
    return {
        **PUBLIC,
        "product": f"/products/{tea.pk}/",
        **SIGNED_IN,
        "checkout": f"/checkout/?sku={sku.pk}&qty=1",
        "order": f"/orders/{order.number}/",
        "pay": f"/orders/{order.number}/pay/",
        "cashier": f"/sandbox-pay/{shop['payment'].out_trade_no}/",
        "paid-order": f"/orders/{paid.number}/",
        "pay-result": f"/orders/{paid.number}/result/",
        "after-sale": f"/orders/{paid.number}/after-sale/",
        "category": f"/categories/?c={tea.category_id}",
        "share-product": f"/d/share/?product={tea.pk}",
    }


def overflow(page) -> int:
    # Against the screen's width, not window.innerWidth: a phone's browser widens its layout
    # viewport (zooming out) to fit a page that overflows, so that difference reads 0.
    return page.evaluate("document.documentElement.scrollWidth") - page.viewport_size["width"]


def test_every_page_at_375(phones, shop):
    phone = phones("page")
    sign_in(phone)
    for name, url in all_pages(shop).items():
        response = phone.page.goto(url)
        assert response.status == 200, url
        phone.page.wait_for_load_state("networkidle")
        assert overflow(phone.page) <= 0, f"{url} is wider than the screen"
        phone.shot(name)


@pytest.mark.parametrize("width", [320, 1280])
def test_no_layout_breaks_at_narrow_or_desktop_width(browser, live_server, shop, width):
    context = browser.new_context(
        base_url=live_server.url,
        **{**PHONE, "viewport": {"width": width, "height": 900}, "is_mobile": width < 600},
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/login/")
    page.get_by_label("手机号").fill("13500000001")
    page.get_by_label("密码").fill("Secret#2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("我的订单").wait_for()
    for url in all_pages(shop).values():
        page.goto(url)
        assert overflow(page) <= 0, f"{url} overflows at {width}px"
    context.close()
    assert not errors
