"""GET /staff/orders: an ERP or warehouse pulls the orders to ship (or those paid in a
period) newest first, paged by key, each with its lines' SKU codes and the 商家备注, for a
staff token holding orders.view_order; a page costs the same queries however many orders."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.orders.services import lifecycle, merchant_notes
from fenxiao.testing import ApiClient, api_for, assert_refused, make_buyer, make_staff

from .backend import make_order, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return api_for(make_staff("erp", perms=["orders.view_order"]))


def numbers(reply) -> list[str]:
    assert reply.status_code == 200, reply.content
    return [order["number"] for order in reply.json()["items"]]


def test_the_orders_to_ship_newest_first_with_what_a_warehouse_needs(warehouse):
    unpaid = make_order()
    first, second = pay(make_order(prices=(4990, 1200), quantity=2)), pay(make_order())
    cancelled = make_order()
    lifecycle.cancel(cancelled, make_staff(), reason="买家不要了")
    merchant_notes.set_merchant_note(first, make_staff(), "加急")

    assert numbers(warehouse.get("/staff/orders")) == [
        cancelled.number,
        second.number,
        first.number,
        unpaid.number,
    ]
    to_ship = warehouse.get("/staff/orders", status="pending_shipment", fulfilment="delivery").json()
    assert [o["number"] for o in to_ship["items"]] == [second.number, first.number]
    assert to_ship["next"] is None
    shown = to_ship["items"][1]
    assert shown["merchant_note"] == "加急" and shown["recipient_phone"] and shown["address_text"]
    assert [line["sku_code"] for line in shown["lines"]] == list(
        first.lines.order_by("id").values_list("sku_code", flat=True)
    )
    assert [line["quantity"] for line in shown["lines"]] == [2, 2]


def test_paid_in_a_period_and_paging_by_key(warehouse):
    orders = [pay(make_order()) for _ in range(5)]
    now = timezone.now()
    assert numbers(warehouse.get("/staff/orders", paid_from=(now + timedelta(minutes=1)).isoformat())) == []
    in_period = warehouse.get("/staff/orders", paid_from=(now - timedelta(hours=1)).isoformat(), page_size=2)
    seen = numbers(in_period)
    cursor = in_period.json()["next"]
    while cursor:
        page = warehouse.get(
            "/staff/orders", paid_from=(now - timedelta(hours=1)).isoformat(), page_size=2, before=cursor
        )
        seen += numbers(page)
        cursor = page.json()["next"]
    assert seen == [o.number for o in reversed(orders)]
    # Without a time zone, shop time.
    local = timezone.localtime(now + timedelta(minutes=1)).replace(tzinfo=None)
    assert numbers(warehouse.get("/staff/orders", paid_to=local.isoformat())) == seen


def test_a_page_costs_the_same_queries_however_many_orders(warehouse):
    pay(make_order())
    warehouse.get("/staff/orders")
    with CaptureQueriesContext(connection) as few:
        warehouse.get("/staff/orders")
    for _ in range(6):
        pay(make_order(prices=(100, 200, 300)))
    with CaptureQueriesContext(connection) as many:
        assert len(numbers(warehouse.get("/staff/orders"))) == 7
    assert len(many) == len(few)


def test_only_staff_who_may_view_orders_and_bad_filters_are_422(warehouse):
    make_order()
    assert ApiClient().get("/staff/orders").status_code == 401
    assert_refused(api_for(make_buyer()).get("/staff/orders"), 403, "PERMISSION_DENIED")
    assert_refused(api_for(make_staff("clerk")).get("/staff/orders"), 403, "PERMISSION_DENIED")
    for bad in (
        {"status": "lost"},
        {"paid_from": "yesterday"},
        {"paid_to": "0001-01-01T00:00:00"},
        {"before": "0"},
    ):
        assert_refused(warehouse.get("/staff/orders", **bad), 422, "INVALID_INPUT")
