"""The paging row under the distributor center's lists paged by key (我的团队, 佣金明细,
提现记录, 我的申诉): one shared partial draws it on every page, with each page's own
addresses and wording — the older records' link on a first page, 回到最新 on an older one."""

import html
import re

import pytest
from django.test import Client

from fenxiao.distribution.models import Commission, OrderClaim, Withdrawal
from fenxiao.distribution.services import claims, withdrawals
from fenxiao.distribution.tests.helpers import bound_buyer, buy, earn, make_distributor, sku
from fenxiao.storefront.views import distribution as views
from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db

PARTIAL = "storefront/distribution/partials/paging.html"


@pytest.fixture(autouse=True)
def one_row_a_page(monkeypatch):
    """Pages of one row instead of 20: two rows make a first page and an older one."""
    real = views.page_before
    monkeypatch.setattr(views, "page_before", lambda rows, before, size: real(rows, before, 1))


def paging_links(reply) -> list[tuple[str, str]]:
    """(address, text) of the paging row's links, addresses as the browser reads them."""
    assert reply.status_code == 200
    assert PARTIAL in [t.name for t in reply.templates]
    page = reply.content.decode()
    rows = re.findall(r'<div class="row" style="(?:padding-top:12px|padding:12px)">(.*?)</div>', page, re.S)
    assert len(rows) == 1, rows
    links = re.findall(r'<a class="btn small" href="([^"]*)"[^>]*>([^<]*)</a>', rows[0])
    return [(html.unescape(href), text) for href, text in links]


def signed_in(distributor) -> Client:
    client = Client()
    client.force_login(distributor.user)
    return client


def walk(client, path: str, more: str, newest: str, label: str, cursor: int) -> None:
    first = paging_links(client.get(path))
    assert first == [(f"{more}{cursor}", label)]
    older = paging_links(client.get(path.split("?")[0] + first[0][0]))
    assert older == [(newest, "回到最新")]


def test_team():
    leader = make_distributor()
    members = [make_distributor(parent=leader) for _ in range(2)]
    walk(
        signed_in(leader),
        "/d/team/?depth=1",
        "?depth=1&before=",
        "?depth=1",
        "更早加入的成员",
        members[-1].pk,
    )


def test_commissions():
    distributor = make_distributor()
    buy(bound_buyer(distributor), (sku(make_product(price=1000)), 1), (sku(make_product(price=2000)), 1))
    newest = Commission.objects.filter(distributor=distributor).latest("pk").pk
    walk(
        signed_in(distributor),
        "/d/commissions/?status=pending",
        "?status=pending&before=",
        "?status=pending",
        "更早的记录",
        newest,
    )


def test_withdrawals():
    distributor = make_distributor()
    earn(distributor, 100000)
    for _ in range(2):
        withdrawals.request(distributor, amount=1000, method="store_credit", account={})
    newest = Withdrawal.objects.filter(distributor=distributor).latest("pk").pk
    walk(signed_in(distributor), "/d/withdraw/", "?before=", "/d/withdraw/", "更早的提现记录", newest)


def test_claims():
    claimant = make_distributor()
    buyer = bound_buyer(make_distributor())
    for price in (1000, 2000):
        order = buy(buyer, (sku(make_product(price=price)), 1))
        claims.file(claimant, order_number=order.number, phone_tail=buyer.phone[-4:], reason="扫了我的海报")
    newest = OrderClaim.objects.filter(distributor=claimant).latest("pk").pk
    walk(signed_in(claimant), "/d/claims/", "?before=", "/d/claims/", "更早的申诉", newest)
