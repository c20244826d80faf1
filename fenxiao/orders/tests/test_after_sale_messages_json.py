"""A buyer's after-sale message may come as JSON (`{"message": "…"}`), as a mini-program's
plain request sends words alone; photos still come as multipart. A JSON body that is no
object, or a message that is no text, is refused with a 400 naming it, and nothing is kept."""

import pytest

from fenxiao.orders.models import AfterSaleLog
from fenxiao.orders.tests.test_after_sale_messages_finished import (  # noqa: F401 (a fixture)
    return_address,
    returned,
)
from fenxiao.testing import api_for, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp", "return_address")]


@pytest.fixture
def sale():
    """An open after-sale (退货退款 on a shipped order): (the buyer's API client, its number)."""
    staff = api_for(make_staff(perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]))
    _buyer, client, _number, number = returned(staff)
    return client, number


def post_raw(client, path, body: bytes):
    return client.client.post("/api/v1" + path, body, content_type="application/json", **client._headers())


def test_a_json_message_is_kept(sale):
    client, sale = sale
    reply = client.post(f"/after-sales/{sale}/messages", {"message": "这周末寄回"})
    assert reply.status_code == 201, reply.content
    assert reply.json()["message"] == "这周末寄回"
    assert client.get(f"/after-sales/{sale}").json()["logs"][-1]["message"] == "这周末寄回"


@pytest.mark.parametrize(
    "body, code, text",
    [
        (b"{not json", "INVALID_INPUT", "请求内容不是有效的 JSON"),
        (b"\xff\xfe", "INVALID_INPUT", "请求内容不是有效的 JSON"),
        ('["这周末寄回"]'.encode(), "INVALID_INPUT", "message 须为文字"),
        (b'{"message": 12}', "INVALID_INPUT", "message 须为文字"),
        (b'{"message": null}', "INVALID_INPUT", "message 须为文字"),
        (b"{}", "AFTER_SALE_INVALID", "请填写留言内容"),
        (b'{"message": "   "}', "AFTER_SALE_INVALID", "请填写留言内容"),
    ],
)
def test_a_json_body_that_is_no_message_is_refused(sale, body, code, text):
    client, sale = sale
    before = AfterSaleLog.objects.count()
    reply = post_raw(client, f"/after-sales/{sale}/messages", body)
    assert reply.status_code == 400, reply.content
    assert reply.json()["message"] == text and reply.json()["code"] == code
    assert AfterSaleLog.objects.count() == before
