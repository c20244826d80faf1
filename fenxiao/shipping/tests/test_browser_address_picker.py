"""At phone size and with no outside network: the buyer picks 省/市/区 from cascading
selects, and checkout's shipping fee follows the address picked."""

import pytest

from fenxiao.customers.models import Address
from fenxiao.shipping import regions
from fenxiao.shipping.models import ShippingRule, ShippingTemplate
from fenxiao.testing import make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, buyer, next_path: str):
    page.goto(f"/login/?next={next_path}")
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()


def test_buyer_picks_a_region_and_checkout_prices_it(phones, live_server):
    template = ShippingTemplate.objects.create(name="普通快递", first_fee=800, additional_fee=200)
    ShippingRule.objects.create(
        template=template, provinces=[regions.XINJIANG], first_fee=2500, additional_fee=1000
    )
    product = make_product("羊毛围巾", price=3000)
    product.shipping_template = template
    product.save()
    buyer = make_buyer("13700000031")

    phone = phones("address-picker")
    page = phone.page
    outside = []

    def only_this_site(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_site)
    _sign_in(page, buyer, "/me/addresses/new/")
    page.wait_for_url("**/me/addresses/new/")
    page.get_by_label("收货人").fill("古丽")
    page.get_by_label("手机号").fill("13700000031")
    page.get_by_label("省", exact=True).select_option("新疆维吾尔自治区")
    page.get_by_label("市", exact=True).select_option("乌鲁木齐市")
    page.get_by_label("区/县", exact=True).select_option("天山区")
    page.get_by_label("详细地址").fill("解放北路 1 号")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    phone.shot("picked")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/me/addresses/")
    far = Address.objects.get(user=buyer)
    assert (far.province, far.city, far.district) == ("新疆维吾尔自治区", "乌鲁木齐市", "天山区")

    Address.objects.create(
        user=buyer,
        recipient="古丽",
        phone="13700000031",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        detail="文三路 1 号",
    )
    page.goto(f"/checkout/?sku={product.skus.get().pk}&qty=2")
    assert page.get_by_test_id("checkout-shipping").inner_text() == "¥35.00"  # 新疆: ¥25 + ¥10
    page.get_by_text("浙江省杭州市西湖区").click()
    page.wait_for_url("**address=*")
    assert page.get_by_test_id("checkout-shipping").inner_text() == "¥10.00"
    assert page.get_by_test_id("checkout-total").inner_text() == "¥70.00"
    phone.shot("checkout-fee")
    assert outside == []
