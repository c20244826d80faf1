"""Promotions at phone size: a buyer claims a coupon in the coupon center, buys a product in
a flash sale, sees the flash price, the coupon discount and the total at checkout, and pays
in the sandbox; a flash countdown ticks and flips the page when the sale starts."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from fenxiao.orders.models import Order
from fenxiao.promotions.models import BuyerCoupon, BuyerCouponStatus, GroupBuy, PromotionItem
from fenxiao.promotions.tests.factories import make_coupon, make_flash, make_group, make_spend
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h5shots")


def shot(page, label: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{label}.png"), full_page=True)


def sign_in(page, buyer, to: str) -> None:
    page.goto(f"/login/?next={to}")
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{to}")


def test_buyer_claims_a_coupon_and_buys_in_a_flash_sale(phones):
    buyer = make_buyer("13700000091")
    make_address(buyer)
    scarf = make_product("羊绒围巾", price=19900, list_price=25900, stock=50)
    flash = make_flash(scarf, price=12900, quota=50, limit=2, name="冬日秒杀")
    PromotionItem.objects.filter(promotion=flash).update(sold=10)
    hat = make_product("毛线帽", price=5900, stock=50)
    make_spend([(10000, 1000)], scope="products", products=[hat], name="帽子满100减10")
    make_coupon(amount=2000, min_spend=10000, name="满100减20", per_buyer_limit=1)

    phone = phones("promotions")
    page = phone.page
    sign_in(page, buyer, "/")
    block = page.get_by_role("region", name="限时抢购")
    assert "羊绒围巾" in block.inner_text() and "¥129.00" in block.inner_text()
    card = page.get_by_role("link", name="羊绒围巾").filter(has=page.get_by_test_id("flash-price"))
    assert card.get_by_test_id("flash-price").inner_text().startswith("¥129.00")
    assert "已抢 20%" in card.inner_text()
    clock = card.locator("[data-countdown-clock]")
    before = clock.inner_text()
    assert re.fullmatch(r"2[23]:\d\d:\d\d", before)
    page.wait_for_function(
        "([el, text]) => el.textContent !== text", arg=[clock.element_handle(), before], timeout=3000
    )
    shot(page, "01-home")

    # 领券中心: claim, a toast, and the card turns 已领取.
    page.get_by_test_id("coupon-center-link").click()
    page.wait_for_url("**/coupons/")
    page.get_by_role("button", name="领取").click()
    page.locator("#toast").get_by_text("领取成功").wait_for()
    page.get_by_text("已领取").wait_for()
    shot(page, "02-coupon-center")
    assert BuyerCoupon.objects.filter(buyer=buyer, status=BuyerCouponStatus.UNUSED).count() == 1

    # The product page shows the flash price, the regular one struck, the countdown.
    page.goto(f"/products/{scarf.pk}/")
    assert page.locator("[data-sku-price]").inner_text() == "¥129.00"
    assert page.locator("[data-sku-strike]").inner_text() == "¥199.00"
    banner = page.get_by_test_id("flash-banner")
    assert "距结束" in banner.inner_text() and "每人限购2件" in banner.inner_text()
    shot(page, "03-product")

    page.get_by_role("button", name="立即购买").click()
    page.wait_for_url("**/checkout/**")
    assert page.get_by_test_id("line-price").inner_text() == "¥129.00¥199.00"
    assert page.get_by_test_id("checkout-discount-coupon").inner_text().endswith("-¥20.00")
    assert page.get_by_test_id("checkout-total").inner_text() == "¥109.00"
    assert page.get_by_test_id("checkout-saved").inner_text() == "¥90.00"
    assert page.get_by_test_id("checkout-due").inner_text() == "¥109.00"
    shot(page, "04-checkout")

    # Without the coupon the total goes back up; choosing it again brings it back.
    page.get_by_test_id("coupon-none").click()
    page.wait_for_url("**coupon=none**")
    assert page.get_by_test_id("checkout-total").inner_text() == "¥129.00"
    page.get_by_test_id("coupon-option").click()
    page.wait_for_function("document.querySelector('[data-testid=checkout-total]').textContent === '¥109.00'")

    page.get_by_role("button", name="提交订单").click()
    assert page.get_by_test_id("pay-due").inner_text() == "¥109.00"
    page.get_by_role("button", name="立即支付").click()
    assert page.get_by_test_id("pay-amount").inner_text() == "¥109.00"
    page.get_by_role("button", name="确认支付").click()
    page.get_by_test_id("pay-success").wait_for()
    order = Order.objects.get(buyer=buyer)
    assert (order.status, order.total, order.discount_amount, order.goods_amount) == (
        "pending_shipment",
        10900,
        2000,
        12900,
    )
    assert BuyerCoupon.objects.get(buyer=buyer).status == BuyerCouponStatus.USED
    assert PromotionItem.objects.get(promotion=flash).sold == 11

    page.goto(f"/orders/{order.number}/")
    assert "优惠券 · 满100减20" in page.get_by_test_id("order-discount").inner_text()
    shot(page, "05-order")
    page.goto("/me/coupons/?tab=used")
    page.get_by_test_id("my-coupon").wait_for()
    shot(page, "06-my-coupons")

    # The cart says what one more hat saves, and takes the 满减 off once it is reached.
    page.goto(f"/products/{hat.pk}/")
    page.get_by_role("button", name="加入购物车").click()
    page.locator("#toast").get_by_text("已加入购物车").wait_for()
    page.goto("/cart/")
    assert page.get_by_test_id("cart-hint").inner_text().startswith("帽子满100减10：再买 ¥41.00 可减 ¥10.00")
    assert page.get_by_test_id("cart-total").inner_text() == "¥59.00"
    page.locator(".list-item", has_text="毛线帽").get_by_role("button", name="增加").click()
    page.get_by_test_id("cart-saved").wait_for()
    assert page.get_by_test_id("cart-total").inner_text() == "¥108.00"  # 2 × ¥59 − ¥10
    shot(page, "09-cart")


def test_an_announced_flash_sale_counts_down_and_flips_when_it_starts(phones):
    soon = make_product("限量手办", price=39900, stock=10)
    make_flash(soon, price=29900, quota=5, starts_in=timedelta(seconds=4), name="整点秒杀")
    group = make_group(soon, price=34900, size=3, name="三人团")
    opened = GroupBuy.objects.create(
        promotion=group,
        item=group.items.get(),
        leader=make_buyer(nickname="阿青"),
        size=3,
        seats_taken=1,
        deadline=timezone.now() + timedelta(hours=2),
    )
    phone = phones("flash-flip")
    page = phone.page
    page.goto(f"/products/{soon.pk}/")
    banner = page.get_by_test_id("flash-banner")
    assert "距开始" in banner.inner_text() and "限时抢购预告 ¥299.00" in banner.inner_text()
    assert page.locator("[data-sku-price]").inner_text() == "¥399.00"
    # The group-buy entry: open a group at the group price, or join the open one.
    entry = page.get_by_test_id("group-entry")
    assert entry.get_by_role("link", name="发起拼团 ¥349.00").get_attribute("href") == (
        f"/checkout/?sku={soon.skus.get().pk}&qty=1&group={group.pk}"
    )
    assert entry.get_by_test_id("open-group").get_attribute("href") == f"/groups/{opened.pk}/"
    assert "阿** 的团 · 还差 2 人" in entry.get_by_test_id("open-group").inner_text()
    shot(page, "07-flash-upcoming")
    # At zero the page reloads and the sale is on.
    page.wait_for_function(
        "document.querySelector('[data-testid=flash-banner]').textContent.includes('距结束')", timeout=10000
    )
    assert page.locator("[data-sku-price]").inner_text() == "¥299.00"
    assert "已抢 0%" in page.get_by_test_id("flash-banner").inner_text()
    shot(page, "08-flash-started")


def test_a_sold_out_flash_spec_cannot_be_bought_while_others_can(phones):
    """The flash sale covers 白 and its stock is gone: picking 白 leaves 加入购物车 and
    立即购买 disabled under the page's notice, picking 黑 (outside the sale) enables them."""
    shirt = make_product("秒杀T恤", price=5900, stock=20, specs_list=[{"颜色": "白"}, {"颜色": "黑"}])
    white = shirt.skus.order_by("pk").first()
    make_flash(shirt, price=2900, sku=white, quota=3).items.update(sold=3)
    phone = phones("flash-sold-out")
    page = phone.page
    page.goto(f"/products/{shirt.pk}/")
    page.get_by_test_id("flash-refusal").wait_for()
    buy = page.get_by_role("button", name="立即购买")
    page.locator(".spec-group label", has_text="白").click()
    assert buy.is_disabled() and page.get_by_role("button", name="加入购物车").is_disabled()
    page.locator(".spec-group label", has_text="黑").click()
    assert buy.is_enabled()
    phone.shot("notice")


def test_the_flash_strip_keeps_every_card_its_width(phones):
    """A long name (编织快充数据线 双Type-C) is cut with …, not left to widen its card past
    the picture and the cards beside it."""
    long_name = make_product("编织快充数据线 双Type-C 100W 1米 两条装", price=2990, stock=50)
    short_name = make_product("全棉四件套", price=29900, stock=50)
    make_flash(long_name, price=1495, quota=50, name="数码好物节")
    make_flash(short_name, price=23920, name="家纺秒杀")

    page = phones("flash-strip").page
    page.goto("/")
    cards = page.locator(".flash-item")
    assert cards.count() == 2
    widths = [round(cards.nth(i).bounding_box()["width"]) for i in range(2)]
    picture = round(cards.first.locator("img, .ph").first.bounding_box()["width"])
    assert widths == [picture, picture], widths
