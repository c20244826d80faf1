"""我的 → 商城余额: the balance and where it came from and went, newest first, paged by key,
reached from 我的; in English for a buyer who picked it."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.customers.models import WALLET_ORDER_PAID, WALLET_ORDER_RELEASED, WALLET_WITHDRAWAL
from fenxiao.customers.services import wallet
from fenxiao.storefront.views import wallet as wallet_view
from fenxiao.testing import chinese_left, in_english, make_buyer

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def filled(buyer, orders: int = 1) -> None:
    wallet.credit(buyer.pk, 12_000, source_key=f"w-{buyer.pk}", note=WALLET_WITHDRAWAL % {"number": "W0001"})
    for i in range(orders):
        number = f"2026120500000000{i:04d}"
        wallet.debit(
            buyer.pk, 3_550, source_key=f"p-{buyer.pk}-{i}", note=WALLET_ORDER_PAID % {"number": number}
        )
        wallet.credit(
            buyer.pk, 3_550, source_key=f"r-{buyer.pk}-{i}", note=WALLET_ORDER_RELEASED % {"number": number}
        )


def amounts(page: str) -> list[str]:
    return re.findall(r'data-testid="wallet-amount">([^<]*)<', page)


def cursor(page: str) -> str:
    return re.search(r"before=(\d+)", page).group(1)


def test_the_balance_and_each_entry_newest_first_with_its_sign():
    buyer = make_buyer()
    filled(buyer)
    filled(make_buyer())
    page = signed_in(buyer).get("/me/wallet/").content.decode()
    assert "可用余额" in page and "¥120.00" in page
    assert amounts(page) == ["+¥35.50", "-¥35.50", "+¥120.00"]  # the other buyer's are not here
    notes = [
        "订单 20261205000000000000 取消，余额退回",
        "订单 20261205000000000000 余额支付",
        "佣金提现到商城余额 W0001",
    ]
    assert [page.index(note) for note in notes] == sorted(page.index(note) for note in notes)


def test_me_leads_to_it_with_the_balance():
    buyer = make_buyer()
    filled(buyer)
    page = signed_in(buyer).get("/me/").content.decode()
    assert 'href="/me/wallet/" data-testid="me-wallet"' in page
    assert "¥120.00 ›" in page


def test_an_empty_wallet_says_what_fills_it():
    page = signed_in(make_buyer()).get("/me/wallet/").content.decode()
    assert "¥0.00" in page and "暂无余额明细" in page and "提现到商城余额" in page


def test_older_entries_page_by_key_and_a_page_costs_the_same_queries(monkeypatch):
    monkeypatch.setattr(wallet_view, "PAGE_SIZE", 4)
    buyer = make_buyer()
    filled(buyer, orders=5)  # 11 entries
    client = signed_in(buyer)
    client.get("/me/wallet/")
    with CaptureQueriesContext(connection) as first_page:
        first = client.get("/me/wallet/").content.decode()
    assert len(amounts(first)) == 4 and 'data-testid="more"' in first
    second = client.get("/me/wallet/", {"before": cursor(first)}).content.decode()
    third = client.get("/me/wallet/", {"before": cursor(second)}).content.decode()
    assert len(amounts(second)) == 4 and len(amounts(third)) == 3 and 'data-testid="more"' not in third
    filled(buyer, orders=20)
    with CaptureQueriesContext(connection) as busier:
        client.get("/me/wallet/")
    assert len(busier) == len(first_page)
    for bad in ("x", "-5", "9" * 40, "１２"):
        assert client.get("/me/wallet/", {"before": bad}).status_code == 200


def test_signed_out_is_sent_to_sign_in():
    reply = Client().get("/me/wallet/")
    assert reply.status_code == 302 and reply["Location"].startswith("/login/")


def test_the_page_reads_in_english():
    buyer = make_buyer()
    filled(buyer)
    page = in_english(signed_in(buyer)).get("/me/wallet/").content.decode()
    assert "Store credit" in page and "Order 20261205000000000000 paid from balance" in page
    assert chinese_left(page, buyer.display_name) == []
    empty = in_english(signed_in(make_buyer())).get("/me/wallet/").content.decode()
    assert chinese_left(empty) == []
