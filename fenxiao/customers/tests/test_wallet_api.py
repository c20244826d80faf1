"""The buyer's own 商城余额 through the API: the balance, and every entry newest first, paged by
key, each note in the reader's language; only the buyer's own, and only signed in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.customers.models import WALLET_ORDER_PAID, WALLET_WITHDRAWAL
from fenxiao.customers.services import wallet
from fenxiao.testing import ApiClient, api_for, assert_refused, make_buyer

pytestmark = pytest.mark.django_db


def fill(buyer, count: int) -> None:
    wallet.credit(buyer.pk, 10_000, source_key=f"w-{buyer.pk}", note=WALLET_WITHDRAWAL % {"number": "W1"})
    for i in range(count - 1):
        wallet.debit(
            buyer.pk, 100, source_key=f"o-{buyer.pk}-{i}", note=WALLET_ORDER_PAID % {"number": f"N{i}"}
        )


def test_the_balance_and_the_entries_newest_first_page_by_page():
    buyer, other = make_buyer(), make_buyer()
    fill(buyer, 25)
    fill(other, 3)
    client = api_for(buyer)
    assert client.get("/me/wallet").json() == {"balance": 10_000 - 24 * 100}

    first = client.get("/me/wallet/entries").json()
    assert len(first["items"]) == 20 and first["next"] is not None
    assert first["items"][0]["amount"] == -100 and first["items"][0]["note"] == "订单 N23 余额支付"
    second = client.get("/me/wallet/entries", before=first["next"]).json()
    assert second["next"] is None
    seen = [e["id"] for e in first["items"] + second["items"]]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 25  # none of the other buyer's
    assert second["items"][-1] == {
        "id": seen[-1],
        "amount": 10_000,
        "note": "佣金提现到商城余额 W1",
        "created_at": second["items"][-1]["created_at"],
    }


def test_notes_read_in_the_readers_language():
    buyer = make_buyer()
    fill(buyer, 2)
    client = api_for(buyer)
    client.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    notes = [e["note"] for e in client.get("/me/wallet/entries").json()["items"]]
    assert notes == ["Order N0 paid from balance", "Commission withdrawn to store balance W1"], notes


def test_a_page_costs_the_same_queries_however_many_entries():
    buyer = make_buyer()
    client = api_for(buyer)
    fill(buyer, 3)
    client.get("/me/wallet/entries")  # the token's first use is noted once
    with CaptureQueriesContext(connection) as few:
        client.get("/me/wallet/entries")
    fill(make_buyer(), 1)
    wallet.credit(buyer.pk, 1, source_key="more", note="")
    for i in range(60):
        wallet.credit(buyer.pk, 1, source_key=f"more-{i}", note="")
    with CaptureQueriesContext(connection) as many:
        client.get("/me/wallet/entries")
    assert len(many) == len(few)


def test_signed_out_is_refused_and_a_bad_cursor_is_a_422():
    assert ApiClient().get("/me/wallet").status_code == 401
    assert ApiClient().get("/me/wallet/entries").status_code == 401
    client = api_for(make_buyer())
    assert_refused(client.get("/me/wallet/entries", before="-1"), 422, "INVALID_INPUT")
    assert_refused(client.get("/me/wallet/entries", before="x" * 30), 422, "INVALID_INPUT")
