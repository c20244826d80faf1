"""分销中心 → 资金明细 (/d/ledger/): the balance and every ledger entry that made it, newest
first, each with what it is, what it refers to (the commission's order, the withdrawal), its
signed amount and the balance after it; paged by key at a constant cost; reached from the
center and the withdraw page; in English for a distributor who picked it."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution.models import LedgerEntry
from fenxiao.distribution.services import withdrawals
from fenxiao.distribution.tests.helpers import (
    configure,
    earn,
    full_refund,
    ledger_sum,
    make_distributor,
    suspend,
)
from fenxiao.testing import api_for, chinese_left, in_english, make_buyer, make_staff

pytestmark = pytest.mark.django_db

BANK = {"name": "王五", "bank": "招商银行杭州分行", "account": "6214830123456789"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def amounts(page: str) -> list[str]:
    return re.findall(r'data-testid="ledger-amount">([^<]*)<', page)


def balances_after(page: str) -> list[str]:
    return re.findall(r"· 余额 (-?¥[\d.]+)", page)


def kinds(page: str) -> list[str]:
    return re.findall(r'data-testid="ledger-kind">([^<]*)<', page)


def cursor(page: str) -> str:
    return re.search(r'before=(\d+)" data-testid="more"', page).group(1)


@pytest.fixture
def history():
    """¥100.00 and ¥50.00 settled; the first order refunded (¥100.00 clawed back); a ¥30.00
    withdrawal rejected (held, then returned); a ¥20.00 one waiting: ¥30.00 left."""
    distributor = make_distributor()
    first = earn(distributor, 100000)
    second = earn(distributor, 50000)
    full_refund(first)
    rejected = withdrawals.request(distributor, amount=3000, method="bank", account=BANK)
    withdrawals.reject(rejected, make_staff(), reason="账户信息有误")
    waiting = withdrawals.request(distributor, amount=2000, method="bank", account=BANK)
    return distributor, first, second, rejected, waiting


def test_every_entry_newest_first_with_its_sign_reference_and_the_balance_after(history):
    distributor, first, second, rejected, waiting = history
    earn(make_distributor(), 70000)  # another distributor's entries are not here
    page = signed_in(distributor.user).get("/d/ledger/").content.decode()

    assert 'data-testid="ledger-available">¥30.00<' in page and ledger_sum(distributor) == 3000
    assert kinds(page) == ["提现冻结", "提现退回", "提现冻结", "退款追回", "佣金结算", "佣金结算"]
    assert amounts(page) == ["-¥20.00", "+¥30.00", "-¥30.00", "-¥100.00", "+¥50.00", "+¥100.00"]
    assert balances_after(page) == ["¥30.00", "¥50.00", "¥20.00", "¥50.00", "¥150.00", "¥100.00"]
    assert "¥70.00" not in page
    # Money in reads red, money out green.
    assert 'color:var(--red)" data-testid="ledger-amount">+¥50.00<' in page
    assert 'color:#0a8a47" data-testid="ledger-amount">-¥20.00<' in page

    # A commission names its order and opens it on 佣金明细; a withdrawal its number.
    commission_id = LedgerEntry.objects.get(
        source_key__startswith="commission:", commission__order=second
    ).commission_id
    assert f'href="/d/commissions/?before={commission_id + 1}"' in page
    assert f'订单 {second.number}</a> <span class="nowrap">· 1级佣金</span>' in page
    assert f'href="/d/withdraw/?before={waiting.pk + 1}"' in page and f">{waiting.number}</a>" in page
    # Why money came back or went: the refund, the rejection's reason.
    assert f"已结算佣金追回：订单 {first.number} 商品退款" in page
    assert "提现被拒绝，金额退回：账户信息有误" in page
    # A settled commission's memo names the order by its id, which means nothing to a reader.
    assert f"订单 {first.pk} 1级佣金结算" not in page


def test_the_commission_link_opens_that_commission_first(history):
    distributor, _first, second, *_ = history
    client = signed_in(distributor.user)
    page = client.get("/d/ledger/").content.decode()
    link = re.search(rf'href="(/d/commissions/\?before=\d+)"[^>]*>订单 {second.number}<', page)
    opened = client.get(link.group(1)).content.decode()
    first_shown = opened[opened.index('data-testid="commission"') :]
    assert first_shown.index(second.number) < first_shown.index('data-testid="commission"', 1)


def test_older_entries_page_by_key_and_a_page_costs_the_same_queries():
    configure(withdraw_min=100, withdraw_limit=100)
    distributor = make_distributor()
    for price in (10000, 20000, 30000):
        earn(distributor, price)
    for _ in range(19):
        withdrawals.request(distributor, amount=100, method="store_credit", account={})
    # 22 entries: a page of 20, then 2.
    client = signed_in(distributor.user)
    client.get("/d/ledger/")
    with CaptureQueriesContext(connection) as first_page:
        first = client.get("/d/ledger/").content.decode()
    assert len(amounts(first)) == 20
    second = client.get("/d/ledger/", {"before": cursor(first)}).content.decode()
    assert amounts(second) == ["+¥20.00", "+¥10.00"] and 'data-testid="more"' not in second
    # The balance after each entry runs on across the page break.
    assert balances_after(second) == ["¥30.00", "¥10.00"]
    assert balances_after(first)[-1] == "¥60.00" and amounts(first)[-1] == "+¥30.00"
    assert 'data-testid="ledger-available">¥41.00<' in second

    for price in (40000, 50000):
        earn(distributor, price)
    for _ in range(10):
        withdrawals.request(distributor, amount=100, method="bank", account=BANK)
    with CaptureQueriesContext(connection) as busier:
        client.get("/d/ledger/")
    with CaptureQueriesContext(connection) as deeper:
        client.get("/d/ledger/", {"before": cursor(first)})
    assert len(busier) == len(first_page) == len(deeper)
    for bad in ("x", "-5", "0", "9" * 40, "１２"):
        assert client.get("/d/ledger/", {"before": bad}).status_code == 200


def test_an_empty_ledger_says_what_fills_it_and_what_to_do():
    page = signed_in(make_distributor().user).get("/d/ledger/").content.decode()
    assert 'data-testid="ledger-available">¥0.00<' in page and "暂无资金明细" in page
    assert "佣金结算到可提现余额" in page and 'href="/d/share/">去分享<' in page


def test_the_center_and_the_withdraw_page_lead_to_it():
    client = signed_in(make_distributor().user)
    for path in ("/d/", "/d/withdraw/"):
        assert 'href="/d/ledger/"' in client.get(path).content.decode(), path


def test_a_suspended_distributor_reads_it_and_a_buyer_is_sent_to_the_center():
    distributor = make_distributor()
    earn(distributor, 100000)
    suspend(distributor)
    page = signed_in(distributor.user).get("/d/ledger/").content.decode()
    assert amounts(page) == ["+¥100.00"] and 'href="/d/withdraw/">提现记录<' in page
    assert signed_in(make_buyer()).get("/d/ledger/")["Location"] == "/d/"
    assert Client().get("/d/ledger/")["Location"].startswith("/login/")


def test_the_page_reads_in_english(history):
    distributor, first, *_ = history
    page = in_english(signed_in(distributor.user)).get("/d/ledger/").content.decode()
    assert "Balance history" in page and "Commission settled" in page and "Withdrawal hold" in page
    assert f"Order {first.number}" in page
    assert chinese_left(page, distributor.user.display_name, "账户信息有误") == []
    empty = in_english(signed_in(make_distributor().user)).get("/d/ledger/").content.decode()
    assert chinese_left(empty) == []


def test_the_api_gives_apps_what_the_page_shows(history):
    """GET /distribution/ledger: the same entries, references and balances after, paged by
    key as before (`next` → `before`)."""
    distributor, first, second, rejected, waiting = history
    api = api_for(distributor.user)
    reply = api.get("/distribution/ledger", page_size=4).json()
    older = api.get("/distribution/ledger", page_size=4, before=reply["next"]).json()
    items = reply["items"] + older["items"]
    assert older["next"] is None
    assert [i["amount"] for i in items] == [-2000, 3000, -3000, -10000, 5000, 10000]
    assert [i["balance_after"] for i in items] == [3000, 5000, 2000, 5000, 15000, 10000]
    assert [i["withdrawal_number"] for i in items[:3]] == [waiting.number, rejected.number, rejected.number]
    assert [i["order_number"] for i in items[3:]] == [first.number, second.number, first.number]
    assert items[3]["commission_id"] == items[5]["commission_id"] and items[0]["order_number"] is None
