"""PUT /staff/skus/stock: an ERP or warehouse pushes each SKU's sellable stock by code, all
or nothing, in a fixed number of queries; orders then take from the new levels."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.catalog.models import Sku
from fenxiao.catalog.services import stock_sync
from fenxiao.testing import ApiClient, api_for, assert_refused, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def erp():
    return api_for(make_staff("erp", perms=["catalog.change_product"]))


def push(client, levels: dict[str, int]):
    return client.put("/staff/skus/stock", {"items": [{"code": c, "stock": n} for c, n in levels.items()]})


def stocks() -> dict[str, int]:
    return dict(Sku.objects.values_list("code", "stock"))


def test_each_code_gets_its_level_and_others_are_left_alone(erp):
    a, b, c = (make_product(stock=5).skus.get() for _ in range(3))
    reply = push(erp, {a.code: 40, b.code: 0})
    assert reply.status_code == 200, reply.content
    assert reply.json() == {
        "updated": 2,
        "items": sorted(
            [{"code": a.code, "stock": 40}, {"code": b.code, "stock": 0}], key=lambda i: i["code"]
        ),
    }
    assert stocks() == {a.code: 40, b.code: 0, c.code: 5}


def test_an_unknown_code_refuses_the_whole_push(erp):
    a = make_product(stock=5).skus.get()
    body = assert_refused(push(erp, {a.code: 9, "NO-SUCH-1": 3}), 404, "SKU_NOT_FOUND")
    assert "NO-SUCH-1" in body["message"] and body["details"]["missing"] == ["NO-SUCH-1"]
    assert stocks() == {a.code: 5}


def test_bad_pushes_are_refused_with_nothing_written(erp):
    a = make_product(stock=5).skus.get()
    items = [{"code": a.code, "stock": 1}, {"code": a.code, "stock": 2}]
    assert_refused(erp.put("/staff/skus/stock", {"items": items}), 400, "STOCK_SYNC_DUPLICATE")
    for bad in (
        {"items": []},
        {"items": [{"code": a.code, "stock": -1}]},
        {"items": [{"code": a.code, "stock": 10**12}]},
        {"items": [{"code": "", "stock": 1}]},
        {"items": [{"code": a.code}]},
        {"items": [{"code": a.code, "stock": 1}] * (stock_sync.MAX_CODES + 1)},
    ):
        assert_refused(erp.put("/staff/skus/stock", bad), 422, "INVALID_INPUT")
    assert stocks() == {a.code: 5}


def test_only_staff_who_may_change_products():
    a = make_product(stock=5).skus.get()
    assert ApiClient().put("/staff/skus/stock", {"items": [{"code": a.code, "stock": 1}]}).status_code == 401
    assert_refused(push(api_for(make_buyer()), {a.code: 1}), 403, "PERMISSION_DENIED")
    assert_refused(
        push(api_for(make_staff("viewer", perms=["catalog.view_product"])), {a.code: 1}),
        403,
        "PERMISSION_DENIED",
    )
    assert stocks() == {a.code: 5}


def test_a_push_costs_the_same_queries_for_many_codes(erp):
    skus = [make_product(stock=1).skus.get() for _ in range(12)]
    push(erp, {skus[0].code: 2})
    with CaptureQueriesContext(connection) as one:
        push(erp, {skus[0].code: 3})
    with CaptureQueriesContext(connection) as twelve:
        push(erp, {sku.code: 7 for sku in skus})
    assert len(twelve) == len(one)
    assert set(stocks().values()) == {7}


def test_the_refusal_reads_in_english(erp):
    erp.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    reply = push(erp, {"NO-SUCH-2": 1})
    assert reply.status_code == 404 and reply.json()["code"] == "SKU_NOT_FOUND"
    assert reply.json()["message"] == "These SKU codes do not exist; nothing was changed: NO-SUCH-2"
