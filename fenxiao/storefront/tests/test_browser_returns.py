"""A buyer ships a return back from a phone: carrier and tracking number on the after-sale
page at 375 px, and the page then says 待商家收货."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fenxiao.orders.models import AfterSale, OrderSettings
from fenxiao.orders.services import after_sales, checkout, lifecycle
from fenxiao.storefront.tests.test_browser import product_with_image
from fenxiao.testing import make_address, make_buyer, make_staff, pay_in_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def photo():
    buffer = io.BytesIO()
    Image.new("RGB", (400, 400), "#c53030").save(buffer, format="JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_buyer_fills_the_ship_back_form_at_375(phones, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rules = OrderSettings.current()
    rules.return_recipient, rules.return_phone = "售后组 李师傅", "0571-88001234"
    rules.return_address = "浙江省杭州市余杭区仓前街道文一西路 1288 号 退货仓 3 号门"
    rules.save()
    buyer = make_buyer("13500000031", password="Secret#2026", nickname="退货的买家")
    tea = product_with_image("明前龙井 250g 礼盒装", price=12800)
    order = checkout.place_order(buyer, [(tea.skus.get().pk, 1)], address_id=make_address(buyer).pk)
    pay_in_sandbox(order)
    staff = make_staff("boss")
    lifecycle.ship(order, staff, carrier="shunfeng", tracking_number="SF1400000001")
    sale = after_sales.request_after_sale(
        order,
        buyer,
        kind="return_refund",
        reason_code="not_as_described",
        description="茶叶颜色发黄，和页面描述的嫩绿不一样",
        lines=[{"line_id": order.lines.get().pk}],
        images=[photo()],
    )
    after_sales.approve(sale, staff)

    phone = phones("returns")
    page = phone.page
    page.goto("/login/")
    page.get_by_label("手机号").fill("13500000031")
    page.get_by_label("密码").fill("Secret#2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("我的订单").wait_for()

    page.goto(f"/orders/{order.number}/")
    page.get_by_role("link", name="退货退款").click()
    page.wait_for_url(f"**/after-sales/{sale.number}/")
    banner = page.locator("#after-sale-status")
    assert "待买家退货" in banner.inner_text()
    assert "请在 6 天 23 小时 内寄回商品" in banner.inner_text()
    assert "文一西路 1288 号" in page.locator("#return-address").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    phone.shot("ship-back-form")

    page.get_by_label("物流公司").select_option(label="中通快递")
    page.get_by_label("运单号").fill("78530012345678")
    page.get_by_role("button", name="提交退货物流").click()
    page.get_by_text("退货物流已提交，等待商家确认收货").wait_for()
    assert "待商家收货" in page.locator("#after-sale-status").inner_text()
    shipment = page.locator("#return-shipment").inner_text()
    assert "中通快递" in shipment and "78530012345678" in shipment
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    phone.shot("shipped-back")
    sale.refresh_from_db()
    assert (sale.status, sale.return_carrier, sale.return_tracking_number) == (
        AfterSale.Status.RETURN_SHIPPED,
        "zhongtong",
        "78530012345678",
    )
