"""The H5 shop in English, part B: the distributor center, group buys, coupons, the store
pages and my orders with their after-sales. With English shop data, a page a visitor who
chose English opens shows no Chinese; without the choice, the same page stays Chinese."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from PIL import Image

from fenxiao.distribution.services import binding, claims, config
from fenxiao.distribution.services import dashboard as dashboard_service
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.orders.models import AfterSale
from fenxiao.orders.services import after_sales, checkout, lifecycle
from fenxiao.orders.tests.backend import set_return_address
from fenxiao.promotions.tests.factories import give_coupon, make_coupon, make_group
from fenxiao.stores.models import StoreStaff
from fenxiao.stores.testing import make_store
from fenxiao.testing import (
    api_for,
    chinese_left,
    in_english,
    make_address,
    make_buyer,
    make_category,
    make_product,
    make_staff,
    pay_in_sandbox,
)

pytestmark = pytest.mark.django_db

ADDRESS = {
    "recipient": "Alice Smith",
    "phone": "13800138000",
    "province": "Zhejiang",
    "city": "Hangzhou",
    "district": "Xihu",
    "detail": "100 Wensan Road",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def english(user) -> Client:
    client = Client()
    client.force_login(user)
    return in_english(client)


def buyer(name="Alice"):
    user = make_buyer(nickname=name)
    make_address(user, **ADDRESS)
    return user


def lamp(**fields):
    return make_product("Desk lamp", category=make_category("Lighting"), price=5900, **fields)


def paid_order(user, product=None):
    sku = (product or lamp()).skus.get()
    order = checkout.place_order(user, [(sku.pk, 1)], address_id=user.addresses.first().pk)
    pay_in_sandbox(order)
    order.refresh_from_db()
    return order


def records(order) -> list[str]:
    """What the order and its after-sales wrote down (in the shop's language, as stored)."""
    data = list(order.events.values_list("message", flat=True))
    for item in AfterSale.objects.filter(order=order):
        data += [item.reason, *item.logs.values_list("message", flat=True)]
    return [text for text in data if text]


def photo():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")


def english_page(client, url, *data) -> str:
    reply = client.get(url)
    assert reply.status_code == 200, (url, reply.status_code)
    body = reply.content.decode()
    assert '<html lang="en"' in body
    assert chinese_left(body, *data) == [], url
    return body


def test_the_distributor_center_speaks_english():
    product = lamp()
    distributor = make_distributor(user=make_buyer(nickname="Dana"))
    make_distributor(parent=distributor, user=make_buyer(nickname="Tom"))
    friend = buyer("Frank")
    binding.record_touch(friend, distributor, "link")
    order = paid_order(friend, product)
    client = english(distributor.user)
    # "Why ¥X" is the distribution service's sentence (dashboard.why), not this page's.
    with translation.override("en"):
        whys = [dashboard_service.why(c) for c in dashboard_service.commissions(distributor)]
    dashboard = english_page(client, "/d/")
    assert "Withdrawable commission" in dashboard and "Missing order claims" in dashboard
    for url in [
        "/d/commissions/",
        "/d/commissions/?status=pending",
        "/d/team/",
        "/d/team/?depth=2",
        "/d/rankings/",
        "/d/rankings/?by=commission&period=week",
        "/d/withdraw/",
    ]:
        english_page(client, url, *whys)
    # The share text goes out to friends as the distributor sends it: the page's own words
    # around it are English.
    for url in ["/d/share/", f"/d/share/?product={product.pk}"]:
        share = client.get(url).content.decode()
        text = share.split('id="share-text"')[1].split(">", 1)[1].split("</textarea>")[0]
        assert "Share text" in share and chinese_left(share, text) == [], url
    # A claim, filed and listed.
    other = make_distributor()
    claims.file(other, order_number=order.number, phone_tail=friend.phone[-4:], reason="Scanned my poster")
    page = english_page(english(other.user), "/d/claims/", "Scanned my poster")
    assert "My claims" in page and f"Order {order.number}" in page


def test_the_distributor_application_speaks_english():
    config.update_settings(None, enable_mode="apply", review_mode="manual")
    user = buyer("Ann")
    client = english(user)
    page = english_page(client, "/d/")
    assert "Apply to become a distributor" in page
    client.post("/d/", {"real_name": "Ann Lee"})
    assert "awaiting the merchant's review" in english_page(client, "/d/")
    config.update_settings(None, enable_mode="designated")
    english_page(english(buyer("Bo")), "/d/")


def test_group_buy_pages_speak_english():
    product = lamp()
    promotion = make_group(product, price=3900, size=2, name="Buy together")
    leader = buyer("Leo")
    line = [{"sku_id": product.skus.get().pk, "quantity": 1}]
    body = {"lines": line, "address_id": leader.addresses.first().pk, "group_promotion_id": promotion.pk}
    assert api_for(leader).post("/checkout", body).status_code == 201
    from fenxiao.promotions.models import GroupBuy

    group = GroupBuy.objects.get()
    page = english_page(english(leader), f"/groups/{group.pk}/")
    assert "Group buy" in page
    english_page(english(buyer("Fay")), f"/groups/{group.pk}/")
    mine = english_page(english(leader), "/groups/mine/")
    assert "Started by me" in mine


def test_coupon_pages_speak_english():
    coupon = make_coupon(amount=500, min_spend=3000, name="Welcome five", per_buyer_limit=2)
    user = buyer("Cara")
    client = english(user)
    english_page(client, "/coupons/")
    english_page(client, f"/coupons/{coupon.pk}/")
    give_coupon(user, coupon)
    page = english_page(client, "/me/coupons/")
    assert "Unused (1)" in page
    english_page(client, "/me/coupons/?tab=used")
    english_page(client, "/me/coupons/?tab=expired")
    gone = client.get("/coupons/999999/")
    assert gone.status_code == 404 and chinese_left(gone.content.decode()) == []


def test_store_pages_speak_english():
    product = lamp()
    store = make_store("Lakeside", stock={product.skus.get().pk: 5}, address_detail="1 Lake Road")
    manager = buyer("Mia")
    StoreStaff.objects.create(store=store, user=manager, role=StoreStaff.Role.MANAGER)
    guide = buyer("Gus")
    StoreStaff.objects.create(store=store, user=guide, role=StoreStaff.Role.GUIDE)
    store_data = (store.province, store.city, store.district)
    english_page(english(manager), "/store/", *store_data)
    english_page(english(guide), "/store/", *store_data)
    nobody = english(buyer("Nia")).get("/store/")
    assert nobody.status_code == 403 and chinese_left(nobody.content.decode()) == []

    customer = buyer("Cole")
    order = checkout.place_order(
        customer, [(product.skus.get().pk, 1)], fulfilment="pickup", pickup_store_id=store.pk
    )
    pay_in_sandbox(order)
    order.refresh_from_db()
    page = english_page(english(manager), f"/store/verify/?code={order.pickup_code}", *store_data)
    assert "Verify and hand over the goods" in page
    english_page(english(manager), "/store/verify/")
    forbidden = english(customer).get("/store/verify/")
    assert forbidden.status_code == 403 and chinese_left(forbidden.content.decode()) == []
    # The buyer's pickup card on the order page.
    english_page(english(customer), f"/orders/{order.number}/", *store_data, *records(order))


def test_order_pages_speak_english():
    user = buyer("Olive")
    client = english(user)
    unpaid = checkout.place_order(user, [(lamp().skus.get().pk, 1)], address_id=user.addresses.first().pk)
    english_page(client, f"/orders/{unpaid.number}/", *records(unpaid))
    pay = english_page(client, f"/orders/{unpaid.number}/pay/")
    assert "Payment method" in pay
    english_page(client, f"/orders/{unpaid.number}/result/")
    order = paid_order(user)
    lifecycle.ship(order, make_staff("shipper"), carrier="shunfeng", tracking_number="SF10001")
    for url in ["/orders/", "/orders/?status=shipped", "/orders/?status=cancelled"]:
        english_page(client, url)
    detail = english_page(client, f"/orders/{order.number}/", *records(order))
    assert "Confirm receipt" in detail


def test_after_sale_pages_speak_english():
    user = buyer("Amy")
    client = english(user)
    order = paid_order(user)
    lifecycle.ship(order, make_staff("shipper"), carrier="shunfeng", tracking_number="SF10002")
    form = english_page(client, f"/orders/{order.number}/after-sale/")
    assert "Return and refund" in form
    line = order.lines.get()
    reply = client.post(
        f"/orders/{order.number}/after-sale/",
        {
            "kind": "return_refund",
            "reason_code": "quality",
            "description": "It flickers",
            f"line_{line.pk}": "1",
            "images": [photo()],
        },
    )
    assert reply.status_code == 302, reply.content.decode()
    item = AfterSale.objects.get(order=order)
    rules = set_return_address("1 Warehouse Road, Hangzhou")  # a return is approved only with one
    rules.return_recipient = "Wang"
    rules.save(update_fields=["return_recipient"])
    after_sales.approve(item, make_staff("boss", superuser=True))
    page = english_page(client, reply["Location"], "It flickers", *records(order))
    assert "Enter return tracking" in page
    assert "After-sale request submitted; please wait for the merchant" in page
    english_page(client, f"/orders/{order.number}/", *records(order))


def test_the_pages_stay_chinese_by_default():
    user = buyer("Olive")
    order = paid_order(user)
    client = Client()
    client.force_login(user)
    detail = client.get(f"/orders/{order.number}/").content.decode()
    assert '<html lang="zh-hans"' in detail and "订单详情" in detail and "Order details" not in detail
    assert "订单号" in detail and "Order number" not in detail
    distributor = make_distributor()
    client.force_login(distributor.user)
    dashboard = client.get("/d/").content.decode()
    assert "可提现佣金" in dashboard and "掉单申诉" in dashboard and "Withdraw" not in dashboard
