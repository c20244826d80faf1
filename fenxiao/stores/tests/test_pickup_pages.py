"""The H5 side of 到店自提: choosing pickup at checkout, the buyer's code and QR, and the
store staff's verification page (核销)."""

import pytest

from fenxiao.orders.models import Order
from fenxiao.orders.services import checkout
from fenxiao.stores.testing import make_store, make_store_staff, store_stock
from fenxiao.testing import login, make_address, make_buyer, make_product, pay_in_sandbox

pytestmark = pytest.mark.django_db


def _paid_pickup(store, sku, buyer=None, qty=1):
    order = checkout.place_order(
        buyer or make_buyer(), [(sku.pk, qty)], fulfilment="pickup", pickup_store_id=store.pk
    )
    pay_in_sandbox(order)
    order.refresh_from_db()
    return order


def test_checkout_page_lists_pickup_stores_nearest_first_and_places_a_pickup_order():
    sku = make_product("龙井茶", price=8800, stock=10).skus.get()
    make_store("东站店", stock={sku.pk: 3}, lat=30.2905, lng=120.2130)
    near = make_store("湖滨店", stock={sku.pk: 3}, lat=30.2600, lng=120.1650, hours="10:00-22:00")
    make_store("空店", stock={sku.pk: 0})
    buyer = make_buyer()
    make_address(buyer)
    client = login(buyer)
    page = client.get(f"/checkout/?sku={sku.pk}&qty=2&fulfilment=pickup&lat=30.259&lng=120.148")
    text = page.content.decode()
    assert page.status_code == 200
    assert text.index("湖滨店") < text.index("东站店") and "空店" not in text
    assert "10:00-22:00" in text and "到店自提 免运费" in text
    reply = client.post(
        f"/checkout/?sku={sku.pk}&qty=2&fulfilment=pickup&store={near.pk}", {"expected_total": 17600}
    )
    assert reply.status_code == 302, reply.content
    order = Order.objects.get()
    assert order.fulfilment == "pickup" and order.pickup_store_id == near.pk and order.total == 17600
    assert store_stock(near, sku) == 1
    # Unpaid: no code yet on the order page; paid: 待自提 with the code, the QR and the store.
    assert "付款后生成提货码" in client.get(f"/orders/{order.number}/").content.decode()
    pay_in_sandbox(order)
    text = client.get(f"/orders/{order.number}/").content.decode()
    assert "待自提" in text and order.pickup_code in text and "data:image/png;base64," in text
    assert "湖滨店" in text and "10:00-22:00" in text


def test_pickup_without_a_store_is_not_placed():
    sku = make_product(stock=10).skus.get()
    client = login(make_buyer())
    reply = client.post(f"/checkout/?sku={sku.pk}&qty=1&fulfilment=pickup", {})
    assert reply.status_code == 302 and not Order.objects.exists()


def test_staff_verify_a_code_on_the_h5_page(django_assert_max_num_queries):
    sku = make_product("绿茶", stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 5})
    clerk = make_store_staff(store)
    order = _paid_pickup(store, sku, qty=2)
    client = login(clerk)
    with django_assert_max_num_queries(12):
        page = client.get(f"/store/verify/?code={order.pickup_code}")
    text = page.content.decode()
    assert page.status_code == 200 and "绿茶" in text and "×2" in text and "确认核销" in text
    reply = client.post("/store/verify/", {"code": order.pickup_code, "confirm": "1"}, follow=True)
    assert "已核销" in reply.content.decode()
    order.refresh_from_db()
    assert order.status == "completed"
    again = client.get(f"/store/verify/?code={order.pickup_code}")
    assert again.status_code == 200 and "已于" in again.content.decode()
    wrong = client.get("/store/verify/?code=00000000")
    assert wrong.status_code == 200 and "提货码无效" in wrong.content.decode()


def test_verify_page_refuses_another_stores_code_and_non_staff():
    sku = make_product(stock=10).skus.get()
    store, other = make_store("湖滨店", stock={sku.pk: 5}), make_store("东站店", stock={sku.pk: 5})
    order = _paid_pickup(store, sku)
    page = login(make_store_staff(other)).get(f"/store/verify/?code={order.pickup_code}")
    assert page.status_code == 200 and "不是本店的订单" in page.content.decode()
    reply = login(make_store_staff(other)).post("/store/verify/", {"code": order.pickup_code, "confirm": "1"})
    assert reply.status_code == 302
    order.refresh_from_db()
    assert order.status == "pending_shipment"
    assert login(make_buyer()).get("/store/verify/").status_code == 403


def test_demo_stores_two_in_hangzhou_with_stock_and_a_clerk():
    from fenxiao.demo.shop.stores import CLERK_PHONE, create_stores
    from fenxiao.stores.models import Store, StoreStaff

    skus = [make_product(stock=10).skus.get() for _ in range(4)]
    account = create_stores(skus)
    create_stores(skus)  # twice changes nothing
    assert list(Store.objects.values_list("city", flat=True)) == ["杭州市", "杭州市"]
    first, second = Store.objects.order_by("sort_order")
    assert first.stock.count() == 2 and second.stock.count() == 1
    assert StoreStaff.objects.get().user.phone == CLERK_PHONE == account.login


def test_store_staff_find_their_store_and_the_pickup_counter_under_me():
    from fenxiao.stores.testing import make_store, make_store_staff
    from fenxiao.testing import login, make_buyer

    clerk = make_store_staff(make_store("龙翔桥店"))
    page = login(clerk).get("/me/").content.decode()
    assert "门店工作台" in page and 'href="/store/verify/"' in page
    assert "门店工作台" not in login(make_buyer()).get("/me/").content.decode()


def test_a_used_code_says_when_in_shop_time():
    from datetime import UTC, datetime

    sku = make_product(stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 5})
    clerk = make_store_staff(store)
    order = _paid_pickup(store, sku)
    client = login(clerk)
    client.post("/store/verify/", {"code": order.pickup_code, "confirm": "1"})
    Order.objects.filter(pk=order.pk).update(picked_up_at=datetime(2026, 1, 1, 18, 30, tzinfo=UTC))
    page = client.get(f"/store/verify/?code={order.pickup_code}").content.decode()
    assert "该提货码已于 2026-01-02 02:30 核销" in page  # Beijing time, not 2026-01-01 18:30 UTC


def test_a_refused_code_goes_back_to_the_page_as_typed_and_encoded():
    from urllib.parse import parse_qs, urlsplit

    store = make_store("湖滨店")
    client = login(make_store_staff(store))
    typed = "1234&done=X 5#"
    reply = client.post("/store/verify/", {"code": typed, "confirm": "1"})
    assert reply.status_code == 302
    assert parse_qs(urlsplit(reply["Location"]).query) == {"code": [typed]}
    # Digits other than 0-9 are no code, said as such (not looked up as an unknown one).
    page = client.get("/store/verify/", {"code": "²" * 8})
    assert "提货码为8位数字" in page.content.decode()


def _refund_one(order):
    from fenxiao.orders.services import after_sales
    from fenxiao.testing import make_staff

    request = after_sales.request_after_sale(
        order,
        order.buyer,
        kind="refund_only",
        reason="不想要了",
        lines=[{"line_id": order.lines.get().pk, "quantity": 1}],
    )
    after_sales.approve(request, make_staff(superuser=True))
    request.refresh_from_db()
    assert request.status == "refunded"


def test_the_counter_hands_over_only_what_was_not_refunded():
    # 3 bought, 1 refunded before pickup: the clerk's phone says hand over 2, as the
    # backend's counter page does, and the app's check answers the same.
    sku = make_product("绿茶", price=1000, stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 5})
    clerk = make_store_staff(store)
    order = _paid_pickup(store, sku, buyer=make_buyer(phone="13912345678"), qty=3)
    _refund_one(order)
    page = login(clerk).get(f"/store/verify/?code={order.pickup_code}").content.decode()
    assert "×2" in page and "×3" not in page
    assert "购买 3 件，已退 1 件，只交付余下的" in page and "共 2 件" in page
    assert "确认核销" in page
    # The buyer's phone by its last digits only, as the backend shows it to most staff.
    assert "139****5678" in page and "13912345678" not in page

    from fenxiao.testing import api_for

    checked = api_for(clerk).post("/stores/pickups/check", {"code": order.pickup_code}).json()
    assert [(x["quantity"], x["refunded_quantity"], x["hand_over"]) for x in checked["lines"]] == [(3, 1, 2)]


def test_the_counter_says_why_an_order_cannot_be_handed_over_yet():
    from fenxiao.orders.services import after_sales

    sku = make_product("绿茶", stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 5})
    clerk = make_store_staff(store)
    order = _paid_pickup(store, sku, qty=2)
    after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": order.lines.get().pk}]
    )
    page = login(clerk).get(f"/store/verify/?code={order.pickup_code}").content.decode()
    assert "订单有处理中的售后申请，请先处理售后" in page and "确认核销" not in page


def test_the_page_says_verified_only_of_an_order_it_verified():
    sku = make_product(stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 5})
    clerk = login(make_store_staff(store))
    order = _paid_pickup(store, sku)
    forged = clerk.get("/store/verify/?done=20260101000000000001").content.decode()
    assert "已核销" not in forged
    pending = clerk.get(f"/store/verify/?done={order.number}").content.decode()
    assert "已核销" not in pending  # not picked up yet
    done = clerk.post("/store/verify/", {"code": order.pickup_code, "confirm": "1"}, follow=True)
    text = done.content.decode()
    assert text.count(order.number) == 1 and "已核销，买家已提货" in text
    # Another store's clerk is not told of this store's pickups.
    other = login(make_store_staff(make_store("东站店")))
    assert "已核销" not in other.get(f"/store/verify/?done={order.number}").content.decode()
