"""到店自提 by tapping at 375 px: the buyer scans the store's QR (and joins it), shares
their location, picks the nearest store, pays, and shows the code; the store clerk verifies
it on the H5 page (核销)."""

import pytest

from fenxiao.orders.models import Order
from fenxiao.stores.models import StoreMember
from fenxiao.stores.testing import make_store, make_store_staff, store_stock
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(phone, user, next_url: str):
    page = phone.page
    page.goto(f"/login/?next={next_url}")
    page.get_by_label("手机号").fill(user.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()


def test_scan_the_store_qr_buy_for_pickup_and_the_store_verifies_the_code(phones, live_server):
    sku = make_product("西湖龙井", price=12800, stock=20).skus.get()
    make_store("文三路店", stock={sku.pk: 5}, lat=30.2795, lng=120.1263, hours="09:00-21:00")
    near = make_store("湖滨店", stock={sku.pk: 5}, lat=30.2598, lng=120.1646, hours="10:00-22:00")
    make_store("没货的店", stock={sku.pk: 0}, lat=30.2599, lng=120.1647)
    buyer = make_buyer("13700000021")
    make_address(buyer)
    clerk = make_store_staff(near)

    shopper = phones("pickup-buyer")
    shopper.context.grant_permissions(["geolocation"], origin=live_server.url)
    shopper.context.set_geolocation({"latitude": 30.2590, "longitude": 120.1600})
    page = shopper.page
    # The store QR on the counter: signing in after the scan makes the buyer its member.
    page.goto(f"/s/{near.code}/")
    page.get_by_role("button", name="登录").wait_for()
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("您已成为湖滨店会员").wait_for()
    assert StoreMember.objects.get(buyer=buyer).store == near
    page.goto(f"/checkout/?sku={sku.pk}&qty=2")
    page.get_by_test_id("fulfilment-pickup").click()
    page.get_by_role("button", name="按距离排序").click()
    page.get_by_text("已按距您由近到远排列").wait_for()
    stores = page.get_by_test_id("pickup-store")
    assert stores.count() == 2
    assert "湖滨店" in stores.nth(0).inner_text() and "文三路店" in stores.nth(1).inner_text()
    assert "10:00-22:00" in stores.nth(0).inner_text()
    assert page.get_by_role("button", name="提交订单").is_disabled()  # no store chosen yet
    stores.nth(0).click()
    page.wait_for_url("**store=*")
    assert page.get_by_test_id("checkout-shipping-pickup").inner_text() == "到店自提 免运费"
    assert page.get_by_test_id("checkout-due").inner_text() == "¥256.00"
    shopper.shot("checkout-pickup")
    page.get_by_role("button", name="提交订单").click()
    page.get_by_role("button", name="立即支付").click()
    page.get_by_role("button", name="确认支付").click()
    page.get_by_test_id("pay-success").wait_for()
    order = Order.objects.get(buyer=buyer)
    assert (order.fulfilment, order.status, order.shipping_fee) == ("pickup", "pending_shipment", 0)
    assert store_stock(near, sku) == 3

    page.goto(f"/orders/{order.number}/")
    assert page.get_by_test_id("order-status").inner_text() == "待自提"
    assert page.get_by_test_id("pickup-code").inner_text() == order.pickup_code
    assert page.get_by_test_id("pickup-qr").evaluate("img => img.naturalWidth > 0")
    assert "湖滨店" in page.get_by_test_id("pickup-store").inner_text()
    shopper.shot("order-pickup-code")

    counter = phones("pickup-clerk")
    desk = counter.page
    sign_in(counter, clerk, "/store/verify/")
    desk.get_by_label("提货码").fill("1234")
    desk.get_by_role("button", name="查询订单").click()
    assert "8位数字" in desk.get_by_test_id("verify-error").inner_text()
    desk.get_by_label("提货码").fill(order.pickup_code)
    desk.get_by_role("button", name="查询订单").click()
    assert "西湖龙井" in desk.get_by_test_id("verify-order").inner_text()
    assert desk.get_by_test_id("verify-qty").inner_text() == "×2"
    counter.shot("verify-order")
    desk.get_by_test_id("verify-confirm").click()
    assert order.number in desk.get_by_test_id("verify-done").inner_text()
    counter.shot("verify-done")
    order.refresh_from_db()
    assert order.status == "completed" and order.picked_up_at is not None
    # The same code again: refused, nothing changes.
    desk.get_by_label("提货码").fill(order.pickup_code)
    desk.get_by_role("button", name="查询订单").click()
    assert "已于" in desk.get_by_test_id("verify-error").inner_text()

    page.reload()
    assert page.get_by_test_id("order-status").inner_text() == "已完成"


def test_operations_set_store_stock_in_the_backend(operations_desk):
    tea = make_product("西湖龙井", stock=20).skus.get()
    cup = make_product("青瓷茶杯", stock=8).skus.get()
    store = make_store("湖滨店", stock={tea.pk: 2})
    page = operations_desk.page
    page.goto("/backend/stores/store/")
    page.get_by_role("link", name="1 个规格有货 · 共 2 件").click()
    page.get_by_label("西湖龙井 门店库存").fill("6")
    page.get_by_label("选择 青瓷茶杯").check()
    page.get_by_label("批量设置所选规格为").fill("3")
    page.get_by_role("button", name="保存门店库存").click()
    page.get_by_text("已更新 2 个规格的门店库存").wait_for()
    operations_desk.shot("store-stock")
    assert (store_stock(store, tea), store_stock(store, cup)) == (6, 3)
