"""The whole story by tapping, in Debian's chromium at phone size."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.catalog.models import ProductImage
from fenxiao.distribution.models import CustomerBinding, Distributor, Touch
from fenxiao.distribution.services import config, settlement
from fenxiao.orders.models import Order
from fenxiao.testing import make_category, make_product, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def product_with_image(name="高山乌龙茶", price=8800, **kwargs):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    product = make_product(
        name, category=make_category("茶饮"), price=price, stock=50, list_price=12800, **kwargs
    )
    buffer = io.BytesIO()
    Image.new("RGB", (600, 600), "#2f855a").save(buffer, format="JPEG")
    image = ProductImage(product=product)
    image.image.save("tea.jpg", ContentFile(buffer.getvalue()), save=True)
    return product


def register(phone, number: str, password: str = "Secret#2026"):
    """Sign up on /register/ as a buyer does: 获取验证码, read the (sandbox) SMS on the page."""
    page = phone.page
    page.get_by_label("手机号").fill(number)
    page.get_by_role("button", name="获取验证码").click()
    sms = page.get_by_test_id("sandbox-sms")
    sms.wait_for()
    page.get_by_label("验证码", exact=True).fill(re.search(r"\d{6}", sms.inner_text()).group())
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_label("确认密码").fill(password)
    page.get_by_role("button", name="注册").click()


def loaded(page, selector: str) -> None:
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)", arg=selector
    )


def test_share_buy_settle_withdraw_by_tapping(phones, settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = live_server.url
    staff = make_staff(superuser=True)
    config.update_settings(
        staff,
        enable_mode="apply",
        review_mode="auto",
        require_real_name=True,
        freeze_days=7,
        level1_bp=1000,
        withdraw_min=100,
        withdraw_fee_bp=0,
    )
    tea = product_with_image()

    # The distributor signs up and applies in the distributor center.
    dist = phones("distributor")
    page = dist.page
    page.goto("/register/?next=/d/")
    register(dist, "13700000001")
    page.get_by_label("真实姓名").fill("刘分享")
    page.get_by_role("button", name="申请成为分销商").click()
    page.get_by_text("可提现佣金").wait_for()
    dist.shot("dashboard-empty")

    # On the product page the address carries the distributor's code (shared from WeChat's
    # own menu); "share & earn" opens the share page with link, QR and poster.
    page.goto(f"/products/{tea.pk}/")
    page.wait_for_url("**?ref=*")
    shared = page.url
    assert shared.endswith(f"/products/{tea.pk}/?ref={Distributor.objects.get().referral_code}")
    page.get_by_test_id("share-earn").click()
    page.get_by_role("img", name="推广二维码").wait_for()
    loaded(page, "img")
    link = page.get_by_label("推广链接").input_value()
    assert link.startswith(f"{live_server.url}/r/")
    dist.shot("share")

    # A buyer opens the page the distributor shared, registers, buys now, adds an address, pays.
    buyer = phones("buyer")
    page = buyer.page
    page.goto(shared)
    page.get_by_role("heading", name="高山乌龙茶").wait_for()
    buyer.shot("product")
    page.get_by_role("button", name="立即购买").click()
    page.get_by_role("link", name="立即注册").click()
    register(buyer, "13700000002")
    assert CustomerBinding.objects.get(buyer__phone="13700000002").distributor.user.phone == "13700000001"
    page.goto(f"/products/{tea.pk}/")
    page.get_by_role("button", name="立即购买").click()
    page.get_by_role("link", name="+ 添加收货地址").click()
    page.get_by_label("收货人").fill("陈买家")
    page.get_by_label("手机号").fill("13700000002")
    page.get_by_label("省", exact=True).select_option("上海市")
    page.get_by_label("市", exact=True).select_option("上海市")
    page.get_by_label("区/县", exact=True).select_option("浦东新区")
    page.get_by_label("详细地址").fill("世纪大道 100 号")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_test_id("checkout-total").inner_text() == "¥88.00"
    buyer.shot("checkout")
    page.get_by_role("button", name="提交订单").click()
    page.get_by_role("button", name="立即支付").click()
    page.get_by_test_id("pay-amount").wait_for()
    buyer.shot("cashier")
    page.get_by_role("button", name="确认支付").click()
    page.get_by_test_id("pay-success").wait_for()
    buyer.shot("paid")

    # The distributor sees the estimated commission appear: 10% of ¥88.00.
    page = dist.page
    page.goto("/d/")
    assert page.get_by_test_id("estimated").inner_text() == "¥8.80"

    # The merchant ships from the backend; the buyer confirms receipt.
    merchant = phones("merchant", desktop=True)
    page = merchant.page
    page.goto("/backend/login/")
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill("Staff#2026")
    page.get_by_role("button", name="登录").click()
    order = Order.objects.get(buyer__phone="13700000002")
    page.goto(f"/backend/orders/order/{order.pk}/change/")
    page.get_by_role("link", name="local_shipping 发货").click()
    page.get_by_label("物流公司").select_option(label="顺丰速运")
    page.get_by_label("运单号").fill("SF2026")
    page.get_by_role("button", name="确认发货").click()
    page.get_by_text("SF2026").first.wait_for()
    merchant.shot("backend-order-shipped")
    page = buyer.page
    page.goto(f"/orders/{order.number}/")
    assert page.get_by_test_id("tracking").input_value() == "SF2026"
    page.locator(".buybar").get_by_role("button", name="确认收货").click()
    # It cannot be undone: the page asks first.
    page.get_by_test_id("confirm-receipt").get_by_role("button", name="确认收货").click()
    page.get_by_text("已确认收货").wait_for()
    assert page.get_by_test_id("order-status").inner_text() == "已完成"

    # The freeze and the 15-day after-sale window pass; the settlement run credits the balance.
    settlement.settle_due(timezone.now() + timedelta(days=15, minutes=1))
    page = dist.page
    page.goto("/d/")
    assert page.get_by_test_id("available").inner_text() == "¥8.80"
    page.get_by_role("link", name="佣金明细").click()
    page.get_by_text("为什么是 ¥8.80？").click()
    page.get_by_text("1级佣金按默认比例：10%").wait_for()

    # The distributor withdraws ¥8.80 to Alipay; finance approves; the sandbox pays.
    page.goto("/d/withdraw/")
    page.get_by_label("提现金额（元）").fill("8.80")
    page.get_by_label("提现方式").select_option("alipay")
    page.get_by_label("收款人姓名").fill("刘分享")
    page.get_by_label("收款账号（支付宝账号）").fill("liu@alipay.com")
    page.get_by_role("button", name="申请提现").click()
    assert page.get_by_test_id("withdraw-available").inner_text() == "¥0.00"

    # Finance approves in the backend; the sandbox payout pays it.
    withdrawal = Distributor.objects.get(user__phone="13700000001").withdrawals.get()
    page = merchant.page
    page.goto(f"/backend/distribution/withdrawal/{withdrawal.pk}/change/")
    page.get_by_role("link", name="审核通过").click()
    page.get_by_role("button", name="审核通过").click()
    page.get_by_text("已审核通过并打款").wait_for()
    page = dist.page
    page.reload()
    page.get_by_test_id("withdrawal").get_by_text("已打款").wait_for()
    dist.shot("withdrawn")


def test_scanned_qr_binds_as_the_bind_mode_says(phones, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    staff = make_staff(superuser=True)
    config.update_settings(staff, bind_mode="latest", protect_days=0)
    tea = product_with_image()
    from fenxiao.distribution.services import distributors
    from fenxiao.testing import make_buyer

    first = distributors.designate(make_buyer("13600000001"), staff)
    second = distributors.designate(make_buyer("13600000002"), staff)

    buyer = phones("qr-buyer")
    page = buyer.page
    page.goto(f"/r/{first.referral_code}?src=qr&to=/products/{tea.pk}/")
    page.get_by_role("heading", name="高山乌龙茶").wait_for()
    page.goto("/register/")
    register(buyer, "13600000009")
    binding = CustomerBinding.objects.get(buyer__phone="13600000009")
    assert (binding.distributor_id, binding.source) == (first.pk, "qr")
    # "latest" with no protection: a later scan of another distributor's code rebinds.
    page.goto(f"/r/{second.referral_code}?src=qr&to=/")
    binding.refresh_from_db()
    assert binding.distributor_id == second.pk
    assert list(
        Touch.objects.filter(buyer__phone="13600000009").order_by("id").values_list("decision", flat=True)
    ) == ["bound", "rebound"]
