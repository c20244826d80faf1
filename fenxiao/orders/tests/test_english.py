"""The order backend and the order API in English: what staff and buyers read is
translated when they chose English; stored texts (order logs, after-sale history, reasons
the buyer wrote) and region names stay as written; Chinese stays the default."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fenxiao.customers.services.accounts import issue_token
from fenxiao.orders.models import AfterSaleLog, OrderEvent, OrderSettings
from fenxiao.orders.services import after_sales
from fenxiao.orders.services.checkout import place_order
from fenxiao.shipping import regions
from fenxiao.shipping.models import ShippingTemplate
from fenxiao.testing import (
    backend_content,
    chinese_left,
    in_english,
    login,
    make_address,
    make_buyer,
    make_category,
    make_product,
    make_staff,
)

from .backend import pay

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")
AFTER_SALES = reverse("admin:orders_aftersale_changelist")
BATCH_SHIP = reverse("admin:orders_order_batch_ship")
REGIONS = ("浙江省", "杭州市", "西湖区")


@pytest.fixture
def staff():
    return in_english(login(make_staff("boss", superuser=True)))


@pytest.fixture
def shop():
    """Two paid orders of English products, one with an after-sale the buyer asked for."""
    category = make_category("Bags")
    tote = make_product("Canvas tote", category=category, price=5000, stock=10).skus.get()
    mug = make_product("Enamel mug", category=category, price=3000, stock=10).skus.get()
    buyer = make_buyer()
    address = make_address(buyer, recipient="Alice Smith", detail="100 Wensan Road")
    first = pay(place_order(buyer, [(tote.pk, 2), (mug.pk, 1)], address_id=address.pk, note="Gift wrap"))
    second = pay(place_order(buyer, [(mug.pk, 1)], address_id=address.pk))
    after_sale = after_sales.request_after_sale(
        second,
        buyer,
        kind="refund_only",
        reason="Changed my mind",
        lines=[{"line_id": second.lines.get().pk}],
    )
    return {"first": first, "second": second, "after_sale": after_sale, "buyer": buyer}


def stored(*orders) -> list[str]:
    """What the rows keep as written: order logs and after-sale history (Chinese by design)."""
    texts = list(OrderEvent.objects.filter(order__in=orders).values_list("message", flat=True))
    texts += list(AfterSaleLog.objects.filter(after_sale__order__in=orders).values_list("message", flat=True))
    # The attribution panel's explanation comes from `distribution` (translated with that app).
    from fenxiao.distribution.services.explain import explain_order

    for order in orders:
        explained = explain_order(order)
        texts += [explained.summary, *explained.notes]
    return [*texts, *REGIONS]


def page(client, url, **query) -> str:
    reply = client.get(url, query)
    assert reply.status_code == 200, reply
    return reply.content.decode()


def test_order_list_with_its_tabs_and_filters_is_english(staff, shop):
    body = page(staff, ORDERS)
    assert "Pending shipment" in body or "pending shipment" in body.lower()
    assert chinese_left(backend_content(body), *stored(shop["first"], shop["second"])) == []
    body = page(staff, ORDERS, tab="after_sale")
    assert chinese_left(backend_content(body), *stored(shop["first"], shop["second"])) == []


def test_order_change_page_is_english(staff, shop):
    order = shop["first"]
    body = page(staff, reverse("admin:orders_order_change", args=[order.pk]))
    assert "Canvas tote" in body
    assert chinese_left(backend_content(body), *stored(order)) == []


def test_order_action_pages_are_english(staff, shop):
    order = shop["first"]
    for action in ("ship", "adjust", "address", "refund", "cancel"):
        body = page(staff, f"{ORDERS}{order.pk}/{action}/")
        assert chinese_left(backend_content(body), *stored(order)) == [], action


def test_after_sale_list_and_change_page_are_english(staff, shop):
    after_sale = shop["after_sale"]
    data = stored(shop["second"])
    assert chinese_left(backend_content(page(staff, AFTER_SALES)), *data) == []
    body = page(staff, reverse("admin:orders_aftersale_change", args=[after_sale.pk]))
    assert "Awaiting merchant" in body
    assert chinese_left(backend_content(body), *data) == []


def test_batch_ship_page_and_its_check_are_english(staff, shop):
    assert chinese_left(backend_content(page(staff, BATCH_SHIP))) == []
    number = shop["first"].number
    rows = f"订单号,物流公司,运单号\r\n{number},shunfeng,SF1234567890\r\nNOPE,shunfeng,SF1234567891\r\n"
    reply = staff.post(BATCH_SHIP, {"file": SimpleUploadedFile("ship.csv", rows.encode()), "_preview": "1"})
    body = reply.content.decode()
    assert "Order not found" in body
    # The column names are the file's own headers; the carriers those the file may name.
    assert chinese_left(backend_content(body), "订单号", "Alice Smith") == []


def test_packing_list_is_english(staff, shop):
    first, second = shop["first"], shop["second"]
    reply = staff.post(ORDERS, {"action": "print_packing_list", "_selected_action": [first.pk, second.pk]})
    assert reply.status_code == 302
    body = page(staff, reply["Location"])
    assert "Pick list" in body and "Canvas tote" in body
    assert chinese_left(body, *REGIONS) == []


def test_order_settings_and_shipping_templates_are_english(staff):
    settings = OrderSettings.current()
    body = page(staff, reverse("admin:orders_ordersettings_change", args=[settings.pk]))
    assert chinese_left(backend_content(body)) == []
    template = ShippingTemplate.objects.create(name="Standard", first_fee=800, additional_fee=200)
    assert (
        chinese_left(backend_content(page(staff, reverse("admin:shipping_shippingtemplate_changelist"))))
        == []
    )
    body = page(staff, reverse("admin:shipping_shippingtemplate_change", args=[template.pk]))
    provinces = [name for _code, name in regions.province_choices()]  # region names are data
    assert "Free-shipping conditions" in body
    assert chinese_left(backend_content(body), *provinces) == []


def _checkout(buyer, body, **headers):
    return Client().post(
        "/api/v1/checkout",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issue_token(buyer)}",
        **headers,
    )


def test_an_api_refusal_is_english_with_the_same_code():
    buyer = make_buyer()
    address = make_address(buyer)
    sku = make_product("Canvas tote", price=5000, stock=3).skus.get()
    body = {"lines": [{"sku_id": sku.pk, "quantity": 5}], "address_id": address.pk}

    english = _checkout(buyer, body, HTTP_ACCEPT_LANGUAGE="en")
    chinese = _checkout(buyer, body)
    assert english.status_code == chinese.status_code == 409
    assert english.json()["code"] == chinese.json()["code"] == "STOCK_INSUFFICIENT"
    assert english.json()["message"] == "Not enough stock: Canvas tote (3 left)"
    assert chinese.json()["message"] == "库存不足：Canvas tote（剩3件）"

    too_many = {"lines": [{"sku_id": sku.pk, "quantity": 600}] * 2, "address_id": address.pk}
    reply = _checkout(buyer, too_many, HTTP_ACCEPT_LANGUAGE="en")
    assert reply.status_code == 400 and reply.json()["code"] == "QUANTITY_TOO_LARGE"
    assert chinese_left(reply.json()["message"]) == []


def test_chinese_stays_the_default(shop):
    client = login(make_staff("boss", superuser=True))
    body = page(client, ORDERS)
    assert "批量发货" in body and "待发货" in body
    body = page(client, reverse("admin:orders_aftersale_change", args=[shop["after_sale"].pk]))
    assert "待商家处理" in body
