"""The POS sync API as a store's till sees it: signed requests, the replay window,
idempotent writes, stock and the pulls (offline sales and enrolment: test_pos_sales.py)."""

import json
import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.stores.models import MemberSource, PosApiKey, StoreMember, StoreStock
from fenxiao.stores.services import pos_keys
from fenxiao.testing import (
    assert_refused,
    login,
    make_address,
    make_buyer,
    make_product,
    make_staff,
)

from .pos_till import Till, make_store, sale


def test_a_signed_request_is_accepted_and_marks_the_key_used(till):
    reply = till.call("GET", "/members")
    assert reply.status_code == 200, reply.content
    assert reply.json() == {"items": [], "next_since": 0, "has_more": False}
    till.key.refresh_from_db()
    assert till.key.last_used_at is not None


def test_the_worked_example_in_the_docs_is_what_sign_computes(client):
    secret = "3f1c0e0a6b2d4e8f9a7c5b3d1e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f"
    body = b'{"items":[{"sku_code":"SKU1-0","stock":12}]}'
    signature = pos_keys.sign(secret, "1767225600", "n0nce-2026-0001", "POST", "/api/v1/pos/stock", body)
    assert signature == "0e5835a53db3b16bee144c83d07f71f200be58e5cb29d81466d62f117a25ceb5"
    description = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/pos/stock"]["post"][
        "description"
    ]
    assert signature in description and "X-Fenxiao-Signature" in description


def test_a_bad_signature_is_refused(till):
    assert_refused(till.call("GET", "/members", secret="0" * 64), 401, "POS_SIGNATURE_INVALID")


def test_a_body_changed_after_signing_is_refused(till, store):
    product = make_product()
    raw = json.dumps({"items": [{"sku_code": product.skus.get().code, "stock": 5}]}).encode()
    ts, nonce = str(int(time.time())), "abcdefgh123"
    signature = pos_keys.sign(till.secret, ts, nonce, "POST", "/api/v1/pos/stock", raw)
    tampered = raw.replace(b"5", b"9")
    reply = Client().post(
        "/api/v1/pos/stock",
        tampered,
        content_type="application/json",
        HTTP_X_FENXIAO_KEY=till.key.key_id,
        HTTP_X_FENXIAO_TIMESTAMP=ts,
        HTTP_X_FENXIAO_NONCE=nonce,
        HTTP_X_FENXIAO_SIGNATURE=signature,
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert_refused(reply, 401, "POS_SIGNATURE_INVALID")
    assert not StoreStock.objects.exists()


def test_an_expired_or_future_timestamp_is_refused(till):
    # The window is 300 s either way; each stamp is read just before its call and kept 30 s
    # from the edge, so a slow machine between stamp and check cannot move it across.
    def at(offset):
        return till.call("GET", "/members", timestamp=int(time.time()) + offset)

    assert_refused(at(-330), 401, "POS_TIMESTAMP_EXPIRED")
    assert_refused(at(330), 401, "POS_TIMESTAMP_EXPIRED")
    assert at(-270).status_code == 200
    assert at(270).status_code == 200


def test_a_replayed_request_is_refused(till):
    first = till.call("GET", "/members", nonce="same-nonce-1")
    assert first.status_code == 200
    assert_refused(till.call("GET", "/members", nonce="same-nonce-1"), 401, "POS_REQUEST_REPLAYED")


def test_missing_headers_unknown_and_revoked_keys_are_refused(till, store):
    assert_refused(Client().get("/api/v1/pos/members"), 401, "POS_KEY_MISSING")
    pos_keys.revoke_keys([till.key.pk])
    assert_refused(till.call("GET", "/members"), 401, "POS_KEY_INVALID")
    other = Till(store)
    other.key.key_id = "pk_" + "0" * 24  # never issued
    assert_refused(other.call("GET", "/members"), 401, "POS_KEY_INVALID")


def test_old_nonces_are_swept(till):
    till.call("GET", "/members", nonce="old-nonce-1")
    assert pos_keys.sweep_nonces(timezone.now() + timedelta(seconds=2 * pos_keys.WINDOW + 1)) == 1


def test_stock_pushed_from_the_pos_is_the_stores_stock(till, store):
    a, b = make_product(stock=100), make_product(stock=100)
    code_a, code_b = a.skus.get().code, b.skus.get().code
    StoreStock.objects.create(store=store, sku=a.skus.get(), stock=3)
    reply = till.call(
        "POST",
        "/stock",
        {"items": [{"sku_code": code_a, "stock": 7}, {"sku_code": code_b, "stock": 0}]},
        idempotency="stock-001",
    )
    assert reply.status_code == 200, reply.content
    assert reply.json() == {
        "store_id": store.pk,
        "updated": 2,
        "levels": [
            {"sku_code": code_a, "stock": 7, "short": 0},
            {"sku_code": code_b, "stock": 0, "short": 0},
        ],
    }
    levels = dict(StoreStock.objects.filter(store=store).values_list("sku__code", "stock"))
    assert levels == {code_a: 7, code_b: 0}
    # the online (warehouse) stock is untouched
    assert a.skus.get().stock == 100


def test_a_change_moves_the_level_and_leaves_what_online_pickups_took(till, store):
    from fenxiao.orders.services import checkout

    tea, cup, pot = (
        make_product("龙井", stock=100),
        make_product("杯", stock=100),
        make_product("壶", stock=100),
    )
    code = {p: p.skus.get().code for p in (tea, cup, pot)}
    till.call("POST", "/stock", {"items": [{"sku_code": code[tea], "stock": 10}]}, idempotency="count-1")
    # After the till's count, a buyer orders 3 for pickup at the store.
    checkout.place_order(
        make_buyer(), [(tea.skus.get().pk, 3)], fulfilment="pickup", pickup_store_id=store.pk
    )
    # The till sold 2 and received 5 cups since: 10 - 3 - 2 = 5 teas, the pickup still taken.
    reply = till.call(
        "POST",
        "/stock",
        {"items": [{"sku_code": code[tea], "change": -2}, {"sku_code": code[cup], "change": 5}]},
        idempotency="moves-1",
    )
    assert reply.status_code == 200, reply.content
    assert reply.json()["levels"] == [
        {"sku_code": code[tea], "stock": 5, "short": 0},
        {"sku_code": code[cup], "stock": 5, "short": 0},
    ]
    # Selling more than is left stops at 0 and says what was short; a stocktake in the same
    # push sets its level.
    reply = till.call(
        "POST",
        "/stock",
        {"items": [{"sku_code": code[tea], "change": -7}, {"sku_code": code[pot], "stock": 2}]},
        idempotency="moves-2",
    )
    assert reply.json()["levels"] == [
        {"sku_code": code[tea], "stock": 0, "short": 2},
        {"sku_code": code[pot], "stock": 2, "short": 0},
    ]
    levels = dict(StoreStock.objects.filter(store=store).values_list("sku__code", "stock"))
    assert levels == {code[tea]: 0, code[cup]: 5, code[pot]: 2}
    # A sale of a SKU the store does not stock is all short, and gives it no row.
    other = make_product("茶宠").skus.get().code
    reply = till.call("POST", "/stock", {"items": [{"sku_code": other, "change": -1}]}, idempotency="moves-3")
    assert reply.json()["levels"] == [{"sku_code": other, "stock": 0, "short": 1}]
    assert not StoreStock.objects.filter(sku__code=other).exists()
    # A retried change is applied once.
    again = till.call(
        "POST",
        "/stock",
        {"items": [{"sku_code": code[tea], "change": -2}, {"sku_code": code[cup], "change": 5}]},
        idempotency="moves-1",
    )
    assert (
        again["Idempotent-Replayed"] == "true"
        and StoreStock.objects.get(store=store, sku__product=cup).stock == 5
    )


@pytest.mark.parametrize(
    "item",
    [{"stock": 1, "change": -1}, {}, {"change": 1.5}, {"stock": -1}],
    ids=["both", "neither", "fraction", "negative level"],
)
def test_each_item_gives_a_level_or_a_change(till, store, item):
    code = make_product().skus.get().code
    reply = till.call("POST", "/stock", {"items": [{"sku_code": code, **item}]}, idempotency="bad-1")
    assert reply.status_code == 422, reply.content
    assert reply.json()["code"] and not StoreStock.objects.exists()


def test_a_push_naming_an_unknown_sku_writes_nothing(till, store):
    product = make_product()
    reply = till.call(
        "POST",
        "/stock",
        {"items": [{"sku_code": product.skus.get().code, "stock": 4}, {"sku_code": "NOPE-1", "stock": 1}]},
        idempotency="stock-002",
    )
    body = assert_refused(reply, 400, "POS_UNKNOWN_SKU")
    assert body["details"]["missing"] == ["NOPE-1"]
    assert not StoreStock.objects.exists()
    # the refused key is not spent: corrected, it goes through
    fixed = till.call(
        "POST",
        "/stock",
        {"items": [{"sku_code": product.skus.get().code, "stock": 4}]},
        idempotency="stock-002",
    )
    assert fixed.status_code == 200


def test_stock_push_needs_an_idempotency_key(till):
    product = make_product()
    reply = till.call("POST", "/stock", {"items": [{"sku_code": product.skus.get().code, "stock": 1}]})
    assert_refused(reply, 400, "IDEMPOTENCY_KEY_MISSING")


def test_the_same_idempotency_key_twice_writes_once(till, store):
    product = make_product()
    code = product.skus.get().code
    body = {"items": [{"sku_code": code, "stock": 9}]}
    first = till.call("POST", "/stock", body, idempotency="stock-003")
    # the store sells two in between; a retry of the old push must not put them back
    StoreStock.objects.filter(store=store).update(stock=7)
    again = till.call("POST", "/stock", body, idempotency="stock-003")
    assert again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert StoreStock.objects.get(store=store).stock == 7
    changed = till.call(
        "POST", "/stock", {"items": [{"sku_code": code, "stock": 1}]}, idempotency="stock-003"
    )
    assert_refused(changed, 409, "IDEMPOTENCY_KEY_REUSED")
    assert StoreStock.objects.get(store=store).stock == 7


def test_idempotency_keys_are_per_store(till, store):
    product = make_product()
    code = product.skus.get().code
    other_store = make_store("滨江店")
    other = Till(other_store)
    body = {"items": [{"sku_code": code, "stock": 2}]}
    assert till.call("POST", "/stock", body, idempotency="same").status_code == 200
    assert other.call("POST", "/stock", body, idempotency="same").status_code == 200
    assert StoreStock.objects.filter(sku__code=code).count() == 2


def test_members_are_pulled_page_by_page(till, store, django_assert_max_num_queries):
    buyers = [make_buyer() for _ in range(5)]
    StoreMember.objects.bulk_create(
        [StoreMember(store=store, buyer=b, source=MemberSource.STORE_QR) for b in buyers]
    )
    StoreMember.objects.create(store=make_store("别的店"), buyer=make_buyer(), source=MemberSource.STORE_QR)
    seen, since = [], 0
    while True:
        with django_assert_max_num_queries(8):
            page = till.call("GET", "/members", query=f"?since={since}&limit=2").json()
        seen += [item["phone"] for item in page["items"]]
        since = page["next_since"]
        if not page["has_more"]:
            break
    assert seen == [b.phone for b in buyers]


def test_the_till_reads_back_the_stock_the_mall_holds_page_by_page(
    till, store, django_assert_max_num_queries
):
    from fenxiao.orders.services import checkout

    skus = [make_product(stock=100).skus.get() for _ in range(3)]
    items = [{"sku_code": sku.code, "stock": 5} for sku in skus]
    assert till.call("POST", "/stock", {"items": items}, idempotency="read-back").status_code == 200
    StoreStock.objects.create(store=make_store("别的店"), sku=skus[0], stock=9)
    # An online pickup takes two of the first SKU off the store's stock.
    checkout.place_order(make_buyer(), [(skus[0].pk, 2)], fulfilment="pickup", pickup_store_id=store.pk)
    seen, since = {}, 0
    while True:
        with django_assert_max_num_queries(8):
            page = till.call("GET", "/stock", query=f"?since={since}&limit=2").json()
        seen.update({item["sku_code"]: item["stock"] for item in page["items"]})
        since = page["next_since"]
        if not page["has_more"]:
            break
    assert seen == {skus[0].code: 3, skus[1].code: 5, skus[2].code: 5}


def test_stock_pushed_from_the_pos_is_what_checkout_sees(till, store):
    from fenxiao.catalog.errors import StockInsufficient
    from fenxiao.orders.errors import PickupUnavailable
    from fenxiao.orders.services import checkout

    sku = make_product(stock=100).skus.get()
    buyer = make_buyer()
    assert (
        till.call(
            "POST", "/stock", {"items": [{"sku_code": sku.code, "stock": 2}]}, idempotency="a"
        ).status_code
        == 200
    )
    quote = checkout.quote([(sku.pk, 2)], fulfilment="pickup", pickup_store_id=store.pk)
    assert quote.pickup_store.id == store.pk and quote.pickup_error is None
    quote = checkout.quote([(sku.pk, 3)], fulfilment="pickup", pickup_store_id=store.pk)
    assert quote.pickup_store is None and quote.pickup_error.code == "PICKUP_UNAVAILABLE"
    checkout.place_order(buyer, [(sku.pk, 2)], fulfilment="pickup", pickup_store_id=store.pk)
    assert StoreStock.objects.get(store=store, sku=sku).stock == 0
    # the till counts a delivery of 5: checkout can sell them
    assert (
        till.call(
            "POST", "/stock", {"items": [{"sku_code": sku.code, "stock": 5}]}, idempotency="b"
        ).status_code
        == 200
    )
    checkout.place_order(buyer, [(sku.pk, 5)], fulfilment="pickup", pickup_store_id=store.pk)
    with pytest.raises((StockInsufficient, PickupUnavailable)):
        checkout.place_order(buyer, [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
    assert StoreStock.objects.get(store=store, sku=sku).stock == 0


def test_paid_pickup_orders_are_pulled_by_their_store(till, store, django_assert_max_num_queries):
    from fenxiao.orders.services import checkout
    from fenxiao.testing import pay_in_sandbox

    sku = make_product(stock=100).skus.get()
    StoreStock.objects.create(store=store, sku=sku, stock=50)
    other = make_store("滨江店")
    StoreStock.objects.create(store=other, sku=sku, stock=50)
    buyer = make_buyer()
    address = make_address(buyer)
    paid = []
    for _ in range(3):
        order = checkout.place_order(buyer, [(sku.pk, 2)], fulfilment="pickup", pickup_store_id=store.pk)
        pay_in_sandbox(order)
        paid.append(order.number)
    checkout.place_order(buyer, [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)  # unpaid
    pay_in_sandbox(checkout.place_order(buyer, [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=other.pk))
    pay_in_sandbox(checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk))  # delivery
    with django_assert_max_num_queries(8):
        first = till.call("GET", "/pickup-orders", query="?limit=2").json()
    assert [o["number"] for o in first["items"]] == paid[:2] and first["has_more"] is True
    assert first["items"][0]["status_label"] == "待自提"
    assert first["items"][0]["lines"] == [
        {
            "sku_code": sku.code,
            "product_name": sku.product.name,
            "spec_text": "",
            "quantity": 2,
            "paid_amount": 19800,
        }
    ]
    rest = till.call("GET", "/pickup-orders", query=f"?since={first['next_since']}&limit=2").json()
    assert [o["number"] for o in rest["items"]] == paid[2:] and rest["has_more"] is False


def test_bad_cursor_and_bodies_are_4xx_never_500(till):
    assert till.call("GET", "/members", query="?since=-1").status_code == 422
    assert till.call("GET", "/members", query="?since=abc").status_code == 422
    assert till.call("POST", "/stock", {"items": []}, idempotency="x").status_code == 422
    assert (
        till.call("POST", "/stock", {"items": [{"sku_code": "A", "stock": -1}]}, idempotency="y").status_code
        == 422
    )
    assert till.call("POST", "/sales", {"sale_id": "z"}).status_code == 422
    weird = Client().post(
        "/api/v1/pos/stock",
        b"\xff\xfe not json",
        content_type="application/json",
        HTTP_X_FENXIAO_KEY="pk_' OR 1=1 --",
        HTTP_X_FENXIAO_TIMESTAMP="１２３",
        HTTP_X_FENXIAO_NONCE="../../etc",
        HTTP_X_FENXIAO_SIGNATURE="\u00e9" * 64,
    )
    assert weird.status_code == 401


def test_staff_create_a_key_see_the_secret_once_and_revoke_it(store):
    staff = make_staff(superuser=True)
    browser = login(staff)
    reply = browser.post(
        "/backend/stores/posapikey/add/", {"store": store.pk, "name": "前台收银"}, follow=True
    )
    assert reply.status_code == 200
    text = reply.content.decode()
    key = PosApiKey.objects.get(store=store)
    assert key.key_id in text and "只显示这一次" in text
    secret = pos_keys.secret_for(key)
    assert secret in text
    listing = browser.get("/backend/stores/posapikey/").content.decode()
    assert key.key_id in listing and secret not in listing
    # Labelled in Chinese like the other columns, the API's own terms in brackets.
    assert "密钥 ID（Key ID）" in text and "签名密钥（Secret）" in text
    assert "密钥 ID" in listing and not re.search(r">\s*Key ID\s*<", listing)
    browser.post(
        "/backend/stores/posapikey/", {"action": "revoke_selected", "_selected_action": [key.pk]}, follow=True
    )
    key.refresh_from_db()
    assert key.is_active is False and key.revoked_at is not None


def test_idempotent_answers_are_forgotten_after_thirty_days(till):
    from fenxiao.stores.models import PosIdempotency
    from fenxiao.stores.services import pos_sync

    till.call("POST", "/sales", sale("S-30", None, 100))
    assert pos_sync.sweep(timezone.now() + timedelta(days=29)) == 0
    assert pos_sync.sweep(timezone.now() + timedelta(days=31)) == 1
    assert not PosIdempotency.objects.exists()
    # the sale itself stays, and its number still cannot be recorded twice
    assert_refused(till.call("POST", "/sales", sale("S-30", None, 100)), 409, "POS_SALE_DUPLICATE")


def test_a_body_too_large_is_refused_as_bad_input_never_a_500(till, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    items = [{"sku_code": f"SKU-{i}", "stock": i} for i in range(100)]
    reply = till.call("POST", "/stock", {"items": items}, idempotency="big")
    assert reply.status_code == 400 and reply.json()["code"] in {"BAD_REQUEST", "POS_PAYLOAD_TOO_LARGE"}
    assert not StoreStock.objects.exists()


def test_a_new_key_points_to_the_api_docs_for_the_tills_developer(store):
    browser = login(make_staff(superuser=True))
    reply = browser.post(
        "/backend/stores/posapikey/add/", {"store": store.pk, "name": "前台收银"}, follow=True
    )
    text = reply.content.decode()
    assert '<a class="underline" href="/api/v1/docs"' in text and "门店收银 POS" in text
