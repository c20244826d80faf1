"""A ban decides what becomes of the distributor's held (pending and frozen) commission:
作废 voids it, 保留 lets it settle. The balance is left as it is: after 作废 it cannot be
withdrawn, and a later refund claws back from it once, whichever came first. The ban page
shows what is at stake before staff confirm."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.distribution import tasks
from fenxiao.distribution.models import LedgerEntry, LedgerKind
from fenxiao.distribution.services import (
    bans,
    commissions,
    compliance,
    distributors,
    reconciliation,
    withdrawals,
)
from fenxiao.testing import api_for, login, make_staff

from .helpers import (
    assert_totals_match_history,
    bound_buyer,
    buy,
    earn,
    full_refund,
    ledger_sum,
    receive,
    settle_now,
    sku,
)

pytestmark = pytest.mark.django_db

ACCOUNT = {"name": "张三", "account": "zhangsan@example.com"}


def ban_entry(distributor) -> LedgerEntry:
    return LedgerEntry.objects.get(distributor=distributor, kind=LedgerKind.BAN)


def test_a_void_ban_voids_held_commission_and_stops_withdrawals(chain, lamp):
    a, b = chain
    earn(b, 10000)  # settled: b 1,000, a 500
    buy(bound_buyer(b), (sku(lamp), 1))  # held: b 1,000

    distributors.ban(b, None, decision="void", reason="刷单")

    entry = ban_entry(b)
    assert (entry.amount, entry.note) == (0, "封禁：待结算佣金 1 笔 ¥10.00 已作废（原因：刷单）")
    assert (ledger_sum(b), ledger_sum(a)) == (1000, 500)
    assert_totals_match_history()
    assert api_for(b.user).get("/distribution/balance").status_code == 403
    assert reconciliation.run().ok
    recruiting = {s.key: s for s in compliance.summary().sections}["recruiting"]
    assert recruiting.ok, recruiting.explanation


def test_a_release_ban_keeps_the_balance_withdrawable(chain, lamp):
    a, b = chain
    earn(b, 10000)
    receive_later = buy(bound_buyer(b), (sku(lamp), 1))

    distributors.ban(b, None, decision="release", reason="停止合作，佣金照付")

    assert ban_entry(b).amount == 0
    assert ledger_sum(b) == 1000
    reply = api_for(b.user).post(
        "/distribution/withdrawals", {"amount": 1000, "method": "alipay", "account": ACCOUNT}
    )
    assert reply.status_code == 201, reply.content
    assert receive_later.commissions.get(distributor=b).status == "pending"


@pytest.mark.parametrize("refund_first", [False, True])
def test_a_refund_claws_back_once_whether_it_comes_before_or_after_a_void_ban(chain, refund_first):
    a, b = chain
    order = earn(b, 10000)
    asked = withdrawals.request(b, amount=600, method="alipay", account=ACCOUNT)
    steps = [lambda: full_refund(order), lambda: distributors.ban(b, None, decision="void", reason="刷单")]
    for step in steps if refund_first else steps[::-1]:
        step()
    withdrawals.reject(asked, make_staff(), reason="已封禁")

    # Settled 1,000, clawed back 1,000: nothing is owed and nothing is taken twice.
    assert ledger_sum(b) == 0
    assert_totals_match_history()


def test_the_backend_ban_shows_what_is_at_stake(chain, lamp):
    a, b = chain
    earn(b, 10000)
    buy(bound_buyer(b), (sku(lamp), 1))
    browser = login(make_staff(superuser=True))
    page = reverse("admin:distribution_distributor_ban", args=[b.pk])
    text = browser.get(page).content.decode()
    assert "待结算和冻结中的佣金" in text and "可提现余额" in text and "¥10.00" in text

    assert browser.post(page, {"reason": "刷单", "decision": "void"}).status_code == 302
    b.refresh_from_db()
    assert (b.status, b.ban_decision, ledger_sum(b)) == ("banned", "void", 1000)


def test_commission_a_payment_writes_just_after_a_void_ban_is_voided_by_the_sweep(chain, lamp, monkeypatch):
    """The payment read the chain (b active) before the ban committed, so the ban found
    nothing held and the commission is written after: it would stay frozen for ever."""
    a, b = chain
    write_for = commissions.write_for

    def ban_first(order, attribution, cfg=None):
        distributors.ban(b, None, decision="void", reason="刷单")
        return write_for(order, attribution, cfg)

    monkeypatch.setattr(commissions, "write_for", ban_first)
    order = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    monkeypatch.undo()
    late = order.commissions.get(distributor=b)
    assert late.status == "frozen"
    settle_now()
    late.refresh_from_db()
    assert late.status == "frozen"  # a void-banned distributor is never paid

    tasks.void_late_held_commission.call_local()

    late.refresh_from_db()
    assert (late.status, late.reversed_amount) == ("cancelled", late.amount)
    assert late.adjustments.get().note == "封禁作废：刷单"
    assert ledger_sum(b) == 0
    assert_totals_match_history()
    assert reconciliation.run().ok
    with CaptureQueriesContext(connection) as nothing_late:
        assert bans.void_late_held() == 0
    assert len(nothing_late) == 1
