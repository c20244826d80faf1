"""A distributor shares a coupon and a friend claims it, by tapping at phone size: the
friend arrives through the distributor's link (a touch of source 优惠券), signs in to claim
and is bound to the distributor."""

import pytest

from fenxiao.distribution.models import CustomerBinding, Touch, TouchSource
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.promotions.models import BuyerCoupon
from fenxiao.promotions.tests.factories import make_coupon
from fenxiao.testing import make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user) -> None:
    page.get_by_label("手机号").fill(user.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()


def test_a_friend_claims_a_coupon_a_distributor_shared(phones, settings, live_server):
    settings.SITE_URL = live_server.url
    tea = make_product("高山乌龙茶", price=12800)
    coupon = make_coupon(
        amount=2000, min_spend=10000, name="乌龙茶满100减20", scope="products", products=[tea]
    )
    distributor = make_distributor(user=make_buyer(nickname="茶小铺"))
    friend = make_buyer()

    phone = phones("coupon-share")
    page = phone.page
    page.goto("/login/?next=/coupons/")
    sign_in(page, distributor.user)
    page.get_by_test_id(f"share-coupon-{coupon.pk}").click()
    page.wait_for_url(f"**/d/share/?coupon={coupon.pk}")
    page.get_by_role("img", name="推广二维码").wait_for()
    link = page.get_by_label("推广链接").input_value()
    assert (
        link == f"{live_server.url}/r/{distributor.referral_code}?to=%2Fcoupons%2F{coupon.pk}%2F&src=coupon"
    )
    assert (
        "茶小铺 送你一张优惠券【乌龙茶满100减20】满¥100.00减¥20.00"
        in page.get_by_label("分享文案").input_value()
    )
    phone.shot("share-page")

    other = phones("coupon-claim")
    page = other.page
    page.goto(link)
    page.wait_for_url(f"**/coupons/{coupon.pk}/")
    other.shot("coupon-page")
    page.get_by_role("button", name="领取").click()
    page.wait_for_url("**/login/**")
    sign_in(page, friend)
    page.wait_for_url(f"**/coupons/{coupon.pk}/")
    page.get_by_role("button", name="领取").click()
    page.get_by_text("已领取").wait_for()
    assert BuyerCoupon.objects.filter(buyer=friend, coupon=coupon).count() == 1
    touch = Touch.objects.get(buyer=friend)
    assert touch.source == TouchSource.COUPON
    assert CustomerBinding.objects.get(buyer=friend).distributor == distributor
    page.get_by_test_id("use-coupon").click()
    page.wait_for_url(f"**/products/{tea.pk}/")
    other.shot("coupon-to-product")
