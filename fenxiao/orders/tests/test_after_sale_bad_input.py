"""The buyer's after-sale API under malformed input: wrong types, impossible numbers,
negative quantities, other buyers' orders, lines and requests. Each is a 4xx with a code
and a Chinese message, never a 500, and writes nothing (no request, no history line)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fenxiao.orders.models import AfterSale, AfterSaleImage, AfterSaleLog, Order
from fenxiao.orders.tests.test_after_sales import place_paid_order, ship
from fenxiao.testing import api_for, assert_refused, make_product, make_staff

# Photos land in this test's own folder (public media and the private evidence store).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

# (label, body with LINE for this order's line and OTHER for another buyer's, status, code)
REQUESTS = [
    ("kind is a number", {"kind": 1}, 422, "INVALID_INPUT"),
    ("unknown kind", {"kind": "exchange"}, 422, "INVALID_INPUT"),
    ("lines not a list", {"lines": "LINE"}, 422, "INVALID_INPUT"),
    ("no lines", {"lines": []}, 422, "INVALID_INPUT"),
    ("line id a word", {"lines": [{"line_id": "abc"}]}, 422, "INVALID_INPUT"),
    ("line id a fraction", {"lines": [{"line_id": 1.5}]}, 422, "INVALID_INPUT"),
    ("line id beyond 64 bits", {"lines": [{"line_id": 2**64}]}, 400, "AFTER_SALE_INVALID"),
    ("negative line id", {"lines": [{"line_id": -1}]}, 400, "AFTER_SALE_INVALID"),
    ("another buyer's line", {"lines": [{"line_id": "OTHER"}]}, 400, "AFTER_SALE_INVALID"),
    ("a line twice", {"lines": [{"line_id": "LINE", "quantity": 1}] * 2}, 400, "AFTER_SALE_INVALID"),
    ("negative quantity", {"lines": [{"line_id": "LINE", "quantity": -1}]}, 422, "INVALID_INPUT"),
    ("huge quantity", {"lines": [{"line_id": "LINE", "quantity": 10**30}]}, 422, "INVALID_INPUT"),
    ("more than bought", {"lines": [{"line_id": "LINE", "quantity": 3}]}, 400, "AFTER_SALE_INVALID"),
    ("quantity a word", {"lines": [{"line_id": "LINE", "quantity": "x"}]}, 422, "INVALID_INPUT"),
    ("negative amount", {"lines": [{"line_id": "LINE", "amount": -5}]}, 422, "INVALID_INPUT"),
    ("zero amount", {"lines": [{"line_id": "LINE", "amount": 0}]}, 422, "INVALID_INPUT"),
    ("huge amount", {"lines": [{"line_id": "LINE", "amount": 10**30}]}, 400, "REFUND_EXCEEDS_PAID"),
    ("amount a fraction", {"lines": [{"line_id": "LINE", "amount": 12.5}]}, 422, "INVALID_INPUT"),
    ("a price of our own", {"lines": [{"line_id": "LINE", "price": 1}]}, 422, "INVALID_INPUT"),
    ("postage asked for", {"shipping_amount": 100}, 422, "INVALID_INPUT"),
    ("unknown reason", {"reason_code": "zzz"}, 400, "AFTER_SALE_INVALID"),
    ("description a list", {"description": ["a"]}, 422, "INVALID_INPUT"),
    ("description too long", {"description": "长" * 501}, 422, "INVALID_INPUT"),
    ("a NUL in the reason", {"reason_code": "", "reason": "a\x00b"}, 400, "INVALID_CHARACTERS"),
]


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def two_buyers():
    """Two buyers with a shipped order each (2 units at ¥40.00 for the first); the second
    buyer has an after-sale open. (first api, order, line id, other line id, other request)."""
    staff = api_for(make_staff(perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]))
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 2)])
    ship(staff, number)
    other, other_number = place_paid_order([(sku, 1)])
    ship(staff, other_number)
    other_line = Order.objects.get(number=other_number).lines.get().pk
    other_sale = other.post(
        f"/orders/{other_number}/after-sales",
        {"kind": "refund_only", "reason_code": "quality", "lines": [{"line_id": other_line}]},
    ).json()["number"]
    return client, number, Order.objects.get(number=number).lines.get().pk, other_line, other_sale


def _fill(value, line, other):
    if isinstance(value, dict):
        return {k: _fill(v, line, other) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, line, other) for v in value]
    return {"LINE": line, "OTHER": other}.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize(("label", "body", "status", "code"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_a_malformed_request_is_refused_and_files_nothing(two_buyers, label, body, status, code):
    client, number, line, other_line, _ = two_buyers
    full = {"kind": "refund_only", "reason_code": "quality", "lines": [{"line_id": line}]}
    full.update(_fill(body, line, other_line))
    before = (AfterSale.objects.count(), AfterSaleLog.objects.count())
    assert_refused(client.post(f"/orders/{number}/after-sales", full), status, code)
    assert (AfterSale.objects.count(), AfterSaleLog.objects.count()) == before


def test_another_buyers_order_and_request_are_not_found(two_buyers):
    client, _number, line, _other_line, other_sale = two_buyers
    other_order = AfterSale.objects.get(number=other_sale).order.number
    body = {"kind": "refund_only", "reason_code": "quality", "lines": [{"line_id": line}]}
    assert_refused(client.post(f"/orders/{other_order}/after-sales", body), 404, "ORDER_NOT_FOUND")
    logs = AfterSaleLog.objects.count()
    for number in (other_sale, "x" * 3000, "１２３"):
        assert_refused(client.get(f"/after-sales/{number}"), 404, "AFTER_SALE_NOT_FOUND")
        assert_refused(client.post(f"/after-sales/{number}/withdraw"), 404, "AFTER_SALE_NOT_FOUND")
        ship_back = {"carrier": "zhongtong", "tracking_number": "ZT1234567890"}
        assert_refused(
            client.post(f"/after-sales/{number}/ship-back", ship_back), 404, "AFTER_SALE_NOT_FOUND"
        )
        for path, data in (("messages", {"message": "在吗"}), ("evidence", {"images": [png()]})):
            reply = client.client.post(f"/api/v1/after-sales/{number}/{path}", data, **client._headers())
            assert_refused(reply, 404, "AFTER_SALE_NOT_FOUND")
    assert AfterSale.objects.get(number=other_sale).status == "requested"
    assert (AfterSaleLog.objects.count(), AfterSaleImage.objects.count()) == (logs, 0)


def test_bad_ship_back_messages_and_pages_are_refused(two_buyers):
    client, number, line, _other_line, _other_sale = two_buyers
    sale = client.post(
        f"/orders/{number}/after-sales",
        {"kind": "refund_only", "reason_code": "quality", "lines": [{"line_id": line, "quantity": 1}]},
    ).json()["number"]
    logs = AfterSaleLog.objects.count()
    for body, status, code in (
        ({"carrier": 1, "tracking_number": 2}, 422, "INVALID_INPUT"),
        ({"carrier": None, "tracking_number": None}, 422, "INVALID_INPUT"),
        ({"carrier": "zhongtong", "tracking_number": "9" * 41}, 422, "INVALID_INPUT"),
        ({"carrier": "zhongtong", "tracking_number": "ZT1234567890"}, 409, "INVALID_STATE_TRANSITION"),
    ):
        assert_refused(client.post(f"/after-sales/{sale}/ship-back", body), status, code)
    headers = client._headers()
    for path, data, status, code in (
        ("messages", {"message": "   "}, 400, "AFTER_SALE_INVALID"),
        ("messages", {"message": "长" * 501}, 400, "AFTER_SALE_INVALID"),
        ("evidence", {"images": "not a file"}, 422, "INVALID_INPUT"),
        (
            "evidence",
            {"images": [SimpleUploadedFile("a.png", b"", content_type="image/png")]},
            400,
            "AFTER_SALE_IMAGE_INVALID",
        ),
        ("evidence", {"images": [png() for _ in range(7)]}, 400, "AFTER_SALE_IMAGE_INVALID"),
    ):
        assert_refused(
            client.client.post(f"/api/v1/after-sales/{sale}/{path}", data, **headers), status, code
        )
    for query in ("page=-1", "page=abc", "page=" + "9" * 30, "page_size=100000"):
        assert_refused(client.client.get(f"/api/v1/after-sales?{query}", **headers), 422, "INVALID_INPUT")
    assert (AfterSaleLog.objects.count(), AfterSaleImage.objects.count()) == (logs, 0)
