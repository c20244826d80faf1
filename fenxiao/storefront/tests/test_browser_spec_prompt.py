"""商品详情 with specs: 加入购物车 and 立即购买 tapped before every spec is chosen say which to
choose (请选择 颜色、尺码), as mall apps do. They were greyed out and did nothing, and the
buyer was left to guess why."""

import pytest

from fenxiao.orders.models import CartLine
from fenxiao.testing import make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_tap_before_choosing_specs_names_the_ones_missing(phones):
    shirt = make_product(
        "长绒棉T恤",
        price=5900,
        stock=20,
        specs_list=[{"颜色": c, "尺码": s} for c in ("白", "黑") for s in ("M", "L")],
    )
    buyer = make_buyer("13700000031")
    phone = phones("spec-prompt")
    page = phone.page
    page.goto(f"/login/?next=/products/{shirt.pk}/")
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**/products/{shirt.pk}/")

    add = page.get_by_role("button", name="加入购物车")
    add.click(timeout=5000)
    page.locator("#toast").get_by_text("请选择 颜色、尺码").wait_for()
    phone.shot("nothing-chosen")
    page.locator(".spec-group label", has_text="黑").click()
    page.get_by_role("button", name="立即购买").click(timeout=5000)
    page.locator("#toast").get_by_text("请选择 尺码").wait_for()
    assert page.evaluate("location.pathname") == f"/products/{shirt.pk}/"
    assert not CartLine.objects.filter(cart__buyer=buyer).exists()

    # Every spec chosen, the same button adds that SKU.
    page.locator(".spec-group label", has_text="L").click()
    add.click()
    page.get_by_text("已加入购物车").wait_for()
    line = CartLine.objects.get(cart__buyer=buyer)
    assert line.sku.specs == {"颜色": "黑", "尺码": "L"}
