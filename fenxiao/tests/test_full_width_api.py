"""The API reads what a full-width keyboard types (１２３, ＳＦ…) as its ASCII form wherever
the H5 pages do, since the services do it rather than the pages: a product search, a texted
code, a return's waybill."""

import pytest

from fenxiao.orders.models import AfterSale
from fenxiao.orders.tests.backend import set_return_address
from fenxiao.orders.tests.test_after_sales import approve, place_paid_order, request, ship
from fenxiao.testing import ApiClient, api_for, make_product, make_staff, sms_code_for

pytestmark = pytest.mark.django_db


def full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def test_a_product_search_typed_full_width_finds_the_product():
    cup = make_product("316不锈钢保温杯")
    make_product("安吉白茶")
    found = ApiClient().get("/products", q=full_width("316")).json()["items"]
    assert [p["id"] for p in found] == [cup.pk]


def test_a_texted_code_typed_full_width_registers():
    code = sms_code_for("13900000501")
    reply = ApiClient().post(
        "/auth/register", {"phone": "13900000501", "password": "Secret#2026", "code": full_width(code)}
    )
    assert reply.status_code == 201, reply.content


def test_a_return_waybill_typed_full_width_is_kept_as_ascii():
    set_return_address()
    staff = api_for(make_staff(perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]))
    sku = make_product(price=5000, stock=5).skus.get()
    client, number = place_paid_order([(sku, 1)])
    ship(staff, number)
    line_id = client.get(f"/orders/{number}").json()["lines"][0]["id"]
    asked = request(client, number, "return_refund", [{"line_id": line_id, "quantity": 1}]).json()
    approve(staff, asked["number"])
    shipped = client.post(
        f"/after-sales/{asked['number']}/ship-back",
        {"carrier": "shunfeng", "tracking_number": full_width("SF2001")},
    )
    assert shipped.status_code == 200, shipped.content
    assert AfterSale.objects.get(number=asked["number"]).return_tracking_number == "SF2001"


def test_a_claim_typed_full_width_finds_the_order():
    from fenxiao.distribution.models import OrderClaim
    from fenxiao.distribution.tests.helpers import bound_buyer, buy, make_distributor, sku

    order = buy(bound_buyer(make_distributor()), (sku(make_product("台灯", price=10_000)), 1))
    claimant = make_distributor()
    reply = api_for(claimant.user).post(
        "/distribution/claims",
        {
            "order_number": full_width(order.number),
            "phone_tail": full_width(order.buyer.phone[-4:]),
            "reason": "海报",
        },
    )
    assert reply.status_code == 201, reply.content
    assert OrderClaim.objects.get().order == order
