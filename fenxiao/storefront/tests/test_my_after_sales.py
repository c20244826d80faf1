"""我的 → 退款/售后: a buyer's after-sales across their orders, newest first, each opening its
own page, with the open ones counted on 我的."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.customers.models import Address
from fenxiao.orders.models import OrderSettings
from fenxiao.orders.services import after_sales, checkout, lifecycle
from fenxiao.storefront.views import my_after_sales
from fenxiao.testing import in_english, make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def asked(buyer, name="羊毛围巾", kind="refund_only"):
    """A paid order of `name` and an after-sale on its line."""
    sku = make_product(name, price=5900, stock=10).skus.get()
    address = Address.objects.filter(user=buyer).first() or make_address(buyer)
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk)
    pay_in_sandbox(order)
    if kind == "return_refund":
        lifecycle.ship(order, make_staff(), carrier="shunfeng", tracking_number="SF10001")
    line = order.lines.get()
    return after_sales.request_after_sale(
        order, buyer, kind=kind, reason_code="not_wanted", lines=[{"line_id": line.pk, "quantity": 1}]
    )


def test_the_buyer_sees_every_after_sale_of_theirs_newest_first_each_opening_its_page():
    buyer = make_buyer()
    scarf = asked(buyer)
    gloves = asked(buyer, "羊绒手套", kind="return_refund")
    asked(make_buyer(), "别人的帽子")

    page = signed_in(buyer).get("/me/after-sales/").content.decode()

    assert page.index("羊绒手套") < page.index("羊毛围巾") and "别人的帽子" not in page
    assert f'href="/orders/{scarf.order.number}/after-sales/{scarf.number}/"' in page
    assert f'href="/orders/{gloves.order.number}/after-sales/{gloves.number}/"' in page
    assert "仅退款" in page and "退货退款" in page and "待商家处理" in page
    assert "¥59.00" in page and f"订单 {scarf.order.number}" in page


def test_a_return_the_merchant_agreed_to_offers_the_ship_back_form_from_its_card():
    rules = OrderSettings.current()
    rules.return_recipient, rules.return_phone, rules.return_address = (
        "售后组",
        "0571-88001234",
        "退货仓 8 号",
    )
    rules.save()
    buyer = make_buyer()
    sale = asked(buyer, kind="return_refund")
    after_sales.approve(sale, make_staff("boss", superuser=True))

    page = signed_in(buyer).get("/me/after-sales/").content.decode()

    assert "待买家退货" in page and "填写退货物流" in page
    assert f"/orders/{sale.order.number}/after-sales/{sale.number}/#ship-back" in page


def test_me_counts_the_open_after_sales_and_leads_to_the_list():
    buyer = make_buyer()
    asked(buyer)
    page = signed_in(buyer).get("/me/").content.decode()
    assert 'href="/me/after-sales/" data-testid="me-after-sales"' in page
    entry = page[page.index('data-testid="me-after-sales"') :]
    assert entry[: entry.index("</a>")].endswith('<span class="count">1</span>')


def test_no_after_sales_says_where_one_is_asked_for():
    page = signed_in(make_buyer()).get("/me/after-sales/").content.decode()
    assert "暂无售后" in page and "在订单详情里可以申请退款或退货" in page and 'href="/orders/"' in page


def test_pages_back_by_key_at_the_same_cost(monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(my_after_sales, "PAGE_SIZE", 2)
    buyer = make_buyer()
    first = asked(buyer, "一号")
    client = signed_in(buyer)
    client.get("/me/after-sales/")  # the session and the like, warmed
    with CaptureQueriesContext(connection) as one:
        client.get("/me/after-sales/")
    asked(buyer, "二号")
    asked(buyer, "三号")
    with django_assert_num_queries(len(one.captured_queries)):
        newest = client.get("/me/after-sales/").content.decode()
    assert "三号" in newest and "二号" in newest and "一号" not in newest and "更早的售后" in newest
    older = client.get(f"/me/after-sales/?before={first.pk + 1}").content.decode()
    assert "一号" in older and "三号" not in older and "回到最新" in older


def test_signing_in_comes_first():
    reply = Client().get("/me/after-sales/")
    assert reply.status_code == 302 and "/login/" in reply["Location"]


def test_the_page_reads_in_english():
    buyer = make_buyer()
    asked(buyer)
    page = in_english(signed_in(buyer)).get("/me/after-sales/").content.decode()
    assert "Refunds / after-sales" in page and "Refund only" in page
