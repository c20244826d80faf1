"""A ban decides what becomes of the distributor's money, all of it: held (pending and
frozen) commission AND the balance already settled. 作废 voids the held commission and
writes the available balance off (a banned 作废 distributor can never withdraw, so left
alone it would sit on the books for ever); 保留 lets the held commission settle and the
balance stay withdrawable. The ban's ledger entry carries what it took and why."""

import pytest
from django.urls import reverse

from fenxiao.distribution.models import LedgerEntry, LedgerKind, Withdrawal
from fenxiao.distribution.services import compliance, distributors, reconciliation, withdrawals
from fenxiao.testing import api_for, login, make_staff

from .helpers import (
    assert_totals_match_history,
    bound_buyer,
    buy,
    earn,
    full_refund,
    ledger_sum,
    make_distributor,
    settle_now,
    sku,
)

pytestmark = pytest.mark.django_db

ACCOUNT = {"name": "张三", "account": "zhangsan@example.com"}


def ban_entry(distributor) -> LedgerEntry:
    return LedgerEntry.objects.get(distributor=distributor, kind=LedgerKind.BAN)


def test_a_void_ban_writes_the_available_balance_off_on_the_ledger(chain, lamp):
    a, b = chain
    earn(b, 10000)  # settled: b 1,000, a 500
    buy(bound_buyer(b), (sku(lamp), 1))  # held: b 1,000
    assert ledger_sum(b) == 1000

    distributors.ban(b, None, decision="void", reason="刷单")

    entry = ban_entry(b)
    assert entry.amount == -1000
    assert entry.note == "封禁：待结算佣金 1 笔 ¥10.00 已作废；可提现余额 ¥10.00 清零（原因：刷单）"
    assert (ledger_sum(b), ledger_sum(a)) == (0, 500)  # a's level 2 is untouched
    assert_totals_match_history()
    assert api_for(b.user).get("/distribution/balance").status_code == 403
    # The books agree, and a ban's write-off is no payment to anyone.
    assert reconciliation.run().ok
    recruiting = {s.key: s for s in compliance.summary().sections}["recruiting"]
    assert recruiting.ok, recruiting.explanation


def test_a_release_ban_keeps_the_balance_withdrawable(chain, lamp):
    a, b = chain
    earn(b, 10000)
    receive_later = buy(bound_buyer(b), (sku(lamp), 1))

    distributors.ban(b, None, decision="release", reason="停止合作，佣金照付")

    entry = ban_entry(b)
    assert entry.amount == 0
    assert entry.note == (
        "封禁：待结算佣金 1 笔 ¥10.00 保留，照常结算；可提现余额 ¥10.00 可继续提现"
        "（原因：停止合作，佣金照付）"
    )
    assert ledger_sum(b) == 1000
    reply = api_for(b.user).post(
        "/distribution/withdrawals", {"amount": 1000, "method": "alipay", "account": ACCOUNT}
    )
    assert reply.status_code == 201, reply.content
    assert receive_later.commissions.get(distributor=b).status == "pending"


def test_a_negative_balance_is_left_as_it_is(chain, lamp):
    """A clawback larger than the balance leaves a debt: a write-off takes only money."""
    a, b = chain
    order = earn(b, 10000)
    withdrawn = withdrawals.request(b, amount=1000, method="alipay", account=ACCOUNT)
    full_refund(order)  # clawed back after the withdrawal: b owes 1,000
    assert ledger_sum(b) == -1000

    distributors.ban(b, None, decision="void", reason="刷单")
    entry = ban_entry(b)
    assert (entry.amount, ledger_sum(b)) == (0, -1000)
    assert (
        entry.note == "封禁：待结算佣金 0 笔 ¥0.00 已作废；账户余额 -¥10.00（退款追回），未清零（原因：刷单）"
    )
    assert Withdrawal.objects.get(pk=withdrawn.pk).status == "requested"
    assert_totals_match_history()


def test_money_given_back_after_a_void_ban_is_written_off_too(chain):
    """A withdrawal asked for before the ban and rejected after it gives its amount back to
    a balance nobody can withdraw: the release writes it off as the ban did, once."""
    a, b = chain
    earn(b, 10000)
    asked = withdrawals.request(b, amount=600, method="alipay", account=ACCOUNT)
    distributors.ban(b, None, decision="void", reason="刷单")
    assert (ban_entry(b).amount, ledger_sum(b)) == (-400, 0)

    withdrawals.reject(asked, make_staff(), reason="已封禁")
    assert ledger_sum(b) == 0
    assert distributors.write_off_after_ban(b.pk) == 0  # nothing left: nothing written
    later = LedgerEntry.objects.filter(distributor=b, kind=LedgerKind.BAN).latest("pk")
    assert (later.amount, later.note) == (-600, "封禁作废：退回的可提现余额 ¥6.00 清零（原因：刷单）")
    assert_totals_match_history()

    # Nothing for an active distributor, or one whose ban kept the balance.
    assert distributors.write_off_after_ban(a.pk) == 0
    distributors.ban(a, None, decision="release", reason="停止合作")
    assert distributors.write_off_after_ban(a.pk) == 0
    assert ledger_sum(a) == 500


def test_the_backend_ban_shows_the_balance_and_what_each_decision_does_with_it(chain):
    a, b = chain
    earn(b, 10000)
    browser = login(make_staff(superuser=True))
    page = reverse("admin:distribution_distributor_ban", args=[b.pk])
    text = browser.get(page).content.decode()
    assert "可提现余额" in text and "¥10.00" in text
    assert "作废待结算佣金，可提现余额清零" in text and "保留，照常结算，余额可继续提现" in text

    assert browser.post(page, {"reason": "刷单", "decision": "void"}).status_code == 302
    b.refresh_from_db()
    assert (b.status, b.ban_decision, ledger_sum(b)) == ("banned", "void", 0)
    ledger_page = browser.get(reverse("admin:distribution_distributor_ledger", args=[b.pk]))
    assert "可提现余额 ¥10.00 清零" in ledger_page.content.decode()


def test_a_ban_with_a_balance_costs_the_same_statements_as_one_without(chain, lamp):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a, b = chain
    rich = make_distributor(parent=a)
    earn(rich, 10000)
    counts = []
    for banned in (b, rich):
        buy(bound_buyer(banned), (sku(lamp), 1))
        with CaptureQueriesContext(connection) as queries:
            distributors.ban(banned, None, decision="void", reason="刷单")
        counts.append(len(queries))
    assert counts[0] == counts[1]
    settle_now()
    assert_totals_match_history()
