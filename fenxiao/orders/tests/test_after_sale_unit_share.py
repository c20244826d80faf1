"""A buyer naming some of a line's units asks at most their share of what was paid: 1 of
2 units for the whole line's money was accepted, and once refunded left the unit kept
refundable for ¥0. Staff may still refund any amount up to what is left (goodwill)."""

import pytest

from fenxiao.orders.models import AfterSale, Order, OrderLine
from fenxiao.orders.services.after_sale_checks import units_share
from fenxiao.orders.tests.test_after_sales import place_paid_order, request, ship
from fenxiao.testing import api_for, assert_refused, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return api_for(make_staff(perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]))


@pytest.fixture
def shipped(staff):
    """A shipped order of 2 units at ¥40.00: (buyer api, order number, line id)."""
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 2)])
    ship(staff, number)
    return client, number, Order.objects.get(number=number).lines.get().pk


@pytest.mark.parametrize("kind", ["return_refund", "refund_only"])
def test_a_buyer_asks_no_more_than_the_units_share(shipped, kind):
    client, number, line = shipped
    body = assert_refused(
        request(client, number, kind, [{"line_id": line, "quantity": 1, "amount": 4001}]),
        400,
        "REFUND_EXCEEDS_PAID",
    )
    assert body["message"] == "退 1 件最多可退 ¥40.00，请修改退款金额"
    assert not AfterSale.objects.exists()
    reply = request(client, number, kind, [{"line_id": line, "quantity": 1, "amount": 4000}])
    assert reply.status_code == 201, reply.content
    assert reply.json()["amount"] == 4000


def test_all_units_or_money_alone_may_ask_what_is_left(shipped):
    client, number, line = shipped
    reply = request(client, number, "refund_only", [{"line_id": line, "quantity": 0, "amount": 8000}])
    assert reply.status_code == 201, reply.content
    AfterSale.objects.all().delete()
    # No units named: the amount is what is asked (the units it covers are read off it).
    reply = request(client, number, "refund_only", [{"line_id": line, "amount": 6000}])
    assert reply.status_code == 201, reply.content
    assert reply.json()["amount"] == 6000
    AfterSale.objects.all().delete()
    reply = request(client, number, "return_refund", [{"line_id": line, "quantity": 2, "amount": 8000}])
    assert reply.status_code == 201, reply.content


def test_staff_may_refund_one_unit_for_more_than_its_share(shipped, staff):
    _, number, line = shipped
    reply = staff.post(
        f"/staff/orders/{number}/refunds",
        {
            "kind": "refund_only",
            "reason": "破损补偿",
            "lines": [{"line_id": line, "quantity": 1, "amount": 6000}],
        },
    )
    assert reply.status_code == 201, reply.content


def test_the_share_rounds_down_and_the_last_unit_takes_the_odd_fen():
    line = OrderLine(quantity=3, paid_amount=10000, refunded_quantity=0, refunded_amount=0)
    assert [units_share(line, n) for n in (1, 2, 3)] == [3333, 6666, 10000]
    line.refunded_quantity, line.refunded_amount = 1, 3333
    assert [units_share(line, n) for n in (1, 2)] == [3333, 6667]
    line.refunded_amount = 9000  # money back beyond the unit's share earlier: never more than left
    assert units_share(line, 1) == 1000
