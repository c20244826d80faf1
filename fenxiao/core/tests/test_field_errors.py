"""A malformed API request names each bad field in the caller's language: 必填, 须为整数,
不能小于 1, 不接受此字段 … (English for an English caller), not pydantic's English
("Field required", "Input should be a valid integer")."""

import pytest

from fenxiao.testing import api_for, make_buyer

pytestmark = pytest.mark.django_db


def details(reply) -> dict:
    assert reply.status_code == 422, reply.content
    body = reply.json()
    assert body["code"] == "INVALID_INPUT" and body["message"] == "请求参数有误，请检查后重试"
    return {d["field"]: d["error"] for d in body["details"]}


def test_each_bad_field_is_named_in_chinese():
    client = api_for(make_buyer())
    assert details(client.post("/cart/lines", {"quantity": 1})) == {"sku_id": "必填"}
    assert details(client.post("/cart/lines", {"sku_id": "abc", "quantity": 1})) == {"sku_id": "须为整数"}
    assert details(client.post("/cart/lines", {"sku_id": 1, "quantity": 0})) == {"quantity": "不能小于 1"}
    too_many = client.post("/cart/lines", {"sku_id": 1, "quantity": 1000})
    assert details(too_many) == {"quantity": "不能大于 999"}
    got = details(client.post("/cart/lines", {"sku_id": 1, "quantity": 1, "colour": "red"}))
    assert got == {"colour": "不接受此字段"}


def test_an_english_caller_reads_them_in_english():
    client = api_for(make_buyer())
    reply = client.client.post(
        "/api/v1/cart/lines",
        {"sku_id": "abc"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **client._headers(),
    )
    assert reply.status_code == 422
    got = {d["field"]: d["error"] for d in reply.json()["details"]}
    assert got == {"sku_id": "Must be a whole number", "quantity": "Required"}
