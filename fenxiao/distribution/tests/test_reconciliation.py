"""每日对账: a shop whose money went every way agrees with itself; each kind of disagreement
is found and named, in the reader's language; the run's cost does not grow with the rows;
the backend page."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.distribution.models import (
    Commission,
    CommissionStatus,
    DistributorTotals,
    LedgerEntry,
    LedgerKind,
    OrderAttribution,
    PayoutStatus,
    Reconciliation,
    RiskReview,
    Withdrawal,
)
from fenxiao.distribution.services import reconciliation, withdrawals
from fenxiao.testing import api_for, chinese_left, in_english, login, make_product, make_staff

from .backend import list_url, url
from .helpers import (
    bound_buyer,
    buy,
    earn,
    full_refund,
    make_distributor,
    receive,
    settle_now,
    sku,
)

pytestmark = pytest.mark.django_db

ALIPAY = {"name": "王五", "account": "wangwu@example.com"}


@pytest.fixture
def shop():
    """Money gone every way: settled, clawed back after settlement, still pending, and
    withdrawals paid electronically, to the wallet, and rejected."""
    a = make_distributor()
    b = make_distributor(parent=a)
    earn(b, 100000)  # b: 10,000 settled; a: 5,000 settled
    clawed = earn(b, 50000)  # b: 5,000 and a: 2,500 settled ...
    full_refund(clawed)  # ... then refunded: both clawed back
    buy(bound_buyer(b), (sku(make_product(price=30000)), 1))  # pending
    finance = make_staff("finance", superuser=True)
    for amount, method, account in (
        (3000, "alipay", ALIPAY),
        (2000, "store_credit", {}),
        (1000, "bank", None),
    ):
        withdrawal = withdrawals.request(
            b,
            amount=amount,
            method=method,
            account=account or {"name": "王五", "bank": "招商银行", "account": "6225880000000000"},
        )
        if method == "bank":
            withdrawals.reject(withdrawal, finance, reason="账户名不符")
        else:
            withdrawals.approve(withdrawal, finance)
    return {"a": a, "b": b}


def checks_of(row: Reconciliation) -> dict[str, dict]:
    return {check["key"]: check for check in row.checks}


def test_a_shop_whose_money_went_every_way_agrees_with_itself(shop):
    row = reconciliation.run(timezone.localdate())

    assert row.ok, row.checks
    assert row.problem_count == 0
    checks = checks_of(row)
    assert set(checks) == {"orders", "ledger", "balances", "withdrawals"}
    assert checks["ledger"]["checked"] == Commission.objects.count() == 6
    assert checks["withdrawals"]["checked"] == 3
    figures = row.figures
    # Three orders paid today: 1,000 + 500 + 300 (yuan).
    assert (figures["paid_orders"], figures["paid_amount"]) == (3, 180000)
    # Settled: 10,000 + 5,000 + 5,000 + 2,500; clawed back 5,000 + 2,500.
    assert figures["commission_settled"] == 22500
    assert figures["clawback"] == 7500
    # Requested 3,000 + 2,000 + 1,000; the bank one given back; the other two paid.
    assert figures["withdrawal_requested"] == 6000
    assert (figures["withdrawal_released"], figures["withdrawal_paid"]) == (1000, 5000)
    assert figures["balance_total"] == 22500 - 7500 - 6000 + 1000


def tamper_commission_ledger(shop):
    # The first commission's entry: a settlement chunk writes its entries in one statement,
    # in no set order, so the entries' own ids do not follow the commissions'.
    entry = LedgerEntry.objects.filter(kind=LedgerKind.COMMISSION).order_by("commission_id", "pk").first()
    LedgerEntry.objects.filter(pk=entry.pk).update(amount=entry.amount + 1)
    DistributorTotals.objects.filter(pk=entry.distributor_id).update(balance=entry.amount + 999_999)
    return {"ledger": f"佣金#{entry.commission_id}", "balances": f"分销商#{entry.distributor_id}"}


def tamper_commission_owner(shop):
    commission = Commission.objects.filter(level=1, status=CommissionStatus.PENDING).get()
    stranger = make_distributor()
    Commission.objects.filter(pk=commission.pk).update(distributor=stranger)
    DistributorTotals.objects.filter(pk=stranger.pk).update(pending=commission.amount)
    DistributorTotals.objects.filter(pk=shop["b"].pk).update(pending=0)
    return {"orders": f"1级归属为分销商#{shop['b'].pk}，佣金却给了#{stranger.pk}"}


def tamper_pending_booked(shop):
    commission = Commission.objects.filter(status=CommissionStatus.PENDING, level=2).get()
    LedgerEntry.objects.create(
        distributor=commission.distributor,
        kind=LedgerKind.COMMISSION,
        amount=commission.amount,
        source_key="forged",
        commission=commission,
    )
    return {"ledger": "应入账 ¥0.00", "balances": f"分销商#{commission.distributor_id}"}


def tamper_release_lost(shop):
    rejected = Withdrawal.objects.get(status="rejected")
    LedgerEntry.objects.filter(withdrawal=rejected, kind=LedgerKind.WITHDRAWAL_RELEASE).delete()
    return {
        "withdrawals": f"提现 {rejected.number}：已拒绝，应退回 ¥10.00，流水退回 ¥0.00",
        "balances": f"分销商#{rejected.distributor_id}：可提现余额记为",
    }


def tamper_wallet_credit(shop):
    from fenxiao.customers.models import WalletEntry

    paid = Withdrawal.objects.get(method="store_credit")
    WalletEntry.objects.filter(source_key=f"withdrawal:{paid.pk}").update(amount=1)
    return {"withdrawals": f"提现 {paid.number}：应转入商城余额 ¥20.00，余额记录为 ¥0.01"}


@pytest.mark.parametrize(
    "tamper",
    [
        tamper_commission_ledger,
        tamper_commission_owner,
        tamper_pending_booked,
        tamper_release_lost,
        tamper_wallet_credit,
    ],
)
def test_each_disagreement_is_found_and_named(shop, tamper):
    expected = tamper(shop)

    row = reconciliation.run(timezone.localdate())

    assert not row.ok
    checks = checks_of(row)
    for key, text in expected.items():
        assert not checks[key]["ok"], (key, checks[key])
        assert any(text in problem["text"] for problem in checks[key]["problems"]), checks[key]["problems"]
    assert {key for key, check in checks.items() if not check["ok"]} == set(expected)
    assert row.problem_count == sum(len(c["problems"]) + c["more"] for c in row.checks)


def test_a_run_costs_the_same_queries_for_more_rows(shop):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            reconciliation.run(timezone.localdate())
        return len(captured)

    queries()  # the day's row is written; later runs update it
    before = queries()
    for _ in range(3):
        earn(shop["b"], 20000)
    receive(buy(bound_buyer(shop["a"]), (sku(make_product(price=8000)), 2)))
    settle_now()
    assert queries() == before


def test_every_run_is_kept_and_yesterday_is_the_default(shop):
    first = reconciliation.run()
    assert first.day == timezone.localdate() - timedelta(days=1) and first.ok
    tamper_release_lost(shop)
    second = reconciliation.run()
    assert second.pk != first.pk and not second.ok
    first.refresh_from_db()
    assert first.ok  # a later run never rewrites an earlier result


def test_a_store_credit_paid_while_the_check_runs_is_not_reported(shop, monkeypatch):
    # The moment between finding a suspect and reading it again: the credit commits then.
    from fenxiao.customers.models import WalletEntry

    paid = Withdrawal.objects.get(method="store_credit")
    credit = WalletEntry.objects.get(source_key=f"withdrawal:{paid.pk}")
    amount = credit.amount
    WalletEntry.objects.filter(pk=credit.pk).update(amount=0)  # not yet committed, as seen
    original = reconciliation._wrong

    def late_commit(query, describe, check, model, **kwargs):
        if kwargs.get("base") is not None:
            suspects = [row["pk"] for row in query(kwargs["base"])]
            assert suspects == [paid.pk]
            WalletEntry.objects.filter(pk=credit.pk).update(amount=amount)
        return original(query, describe, check, model, **kwargs)

    monkeypatch.setattr(reconciliation, "_wrong", late_commit)
    assert reconciliation.run(timezone.localdate()).ok


def test_a_till_commission_above_its_base_is_found(shop):
    till = Commission.objects.filter(level=1).first()
    Commission.objects.filter(pk=till.pk).update(
        order=None, order_line=None, offline_ref="S1/1", offline_label="西湖店 S1", amount=till.base + 1
    )
    row = reconciliation.run(timezone.localdate())
    problems = checks_of(row)["orders"]["problems"]
    assert [p["pk"] for p in problems] == [till.pk]
    assert "门店收银 西湖店 S1" in problems[0]["text"] and "超过计佣金额" in problems[0]["text"]


def test_the_backend_lists_days_shows_the_checks_and_reconciles_now(shop):
    tamper_release_lost(shop)
    finance = make_staff("finance-clerk")
    from fenxiao.customers.services.staff import FINANCE, role_permissions

    finance.user_permissions.set(role_permissions(FINANCE))
    client = login(finance)

    form = client.get(list_url(Reconciliation, "reconcile_now"))
    assert form.status_code == 200
    done = client.post(list_url(Reconciliation, "reconcile_now"), {"confirm": "on"})
    assert done.status_code == 302 and done["Location"] == list_url(Reconciliation)
    row = Reconciliation.objects.get()  # run by the task (inline under the tests)
    assert (row.day, row.ok, row.ran_by) == (timezone.localdate(), False, finance)

    page = client.get(url(row)).content.decode()
    assert "2 项不一致" in page and "提现 ↔ 流水 ↔ 打款" in page and "应退回 ¥10.00" in page
    rejected = Withdrawal.objects.get(status="rejected")
    assert f'href="{url(rejected)}"' in page  # each problem opens its record
    assert "付款金额" in page and "¥1800.00" in page
    listing = client.get(list_url(Reconciliation)).content.decode()
    assert "2 项不一致" in listing and "¥50.00" in listing  # the day's payouts
    # The checks' titles read in the reader's language.
    english = in_english(client).get(url(row)).content.decode()
    assert "Withdrawals ↔ entries ↔ payouts" in english and "提现 ↔ 流水 ↔ 打款" not in english
    assert "Orders ↔ commissions" in english


def test_staff_without_the_finance_role_cannot_reconcile(shop):
    client = login(make_staff("clerk", perms=["distribution.view_reconciliation"]))
    assert client.get(list_url(Reconciliation)).status_code == 200
    refused = client.post(list_url(Reconciliation, "reconcile_now"), {"confirm": "on"})
    assert refused.status_code in (302, 403)
    assert not Reconciliation.objects.exists()


def test_the_daily_task_reconciles_yesterday(shop):
    from fenxiao.distribution.tasks import daily_reconciliation

    daily_reconciliation.call_local()
    row = Reconciliation.objects.get()
    assert row.day == timezone.localdate() - timedelta(days=1) and row.ok and row.ran_by is None
    assert api_for(shop["b"].user).get("/distribution/dashboard").status_code == 200


def test_outside_a_demo_a_withdrawal_paid_by_the_sandbox_is_reported(shop, settings):
    paid = Withdrawal.objects.get(method="alipay")
    assert "-SBX-" in paid.payout_reference and reconciliation.run().ok  # a demo: as it should be
    settings.DEMO_MODE = settings.DEBUG = False
    problems = checks_of(reconciliation.run())["withdrawals"]["problems"]
    assert [(p["pk"], "款项并未实际到账" in p["text"]) for p in problems] == [(paid.pk, True)]


# --- every sentence, in the reader's language ---------------------------------------------


def tamper_every_kind(shop, settings):
    """Every sentence the checks write, at least once, several to a line where they can."""
    from fenxiao.customers.models import WalletEntry
    from fenxiao.orders.models import Order

    settings.DEMO_MODE = settings.DEBUG = False  # a withdrawal paid by the sandbox is reported
    first, clawed, pending = Order.objects.order_by("pk")
    stranger = make_distributor()

    def one(order, level):
        return Commission.objects.get(order=order, level=level)

    # 订单 ↔ 佣金: an order unpaid, its level-1 commission above its base and given to a
    # stranger; an order not completed whose commissions settled, one of them under an
    # open review, the other held with none and above what the line paid; a till sale's.
    Order.objects.filter(pk=pending.pk).update(paid_at=None)
    c = one(pending, 1)
    Commission.objects.filter(pk=c.pk).update(distributor=stranger, amount=c.base + 1)
    Order.objects.filter(pk=first.pk).update(status="shipped")
    c = one(first, 1)
    RiskReview.objects.create(
        order=first, distributor=c.distributor, buyer=first.buyer, signals="self", held_amount=c.amount
    )
    c = one(first, 2)
    Commission.objects.filter(pk=c.pk).update(base=c.order_line.paid_amount + 1, under_review=True)
    till = one(clawed, 1)
    Commission.objects.filter(pk=till.pk).update(
        order=None,
        order_line=None,
        offline_ref="S1/1",
        offline_label="西湖店 S1",
        amount=till.base + 1,
        under_review=True,
    )
    # The unpaid order's attribution names nobody at level 2, yet its commission was paid.
    OrderAttribution.objects.filter(order=pending).update(level2=None)
    # 佣金 ↔ 流水 and 流水 ↔ 余额 (a count among the totals).
    tamper_commission_ledger(shop)
    DistributorTotals.objects.filter(pk=shop["a"].pk).update(orders=F("orders") + 1, sales=F("sales") + 100)
    # 提现: the rejected one held less, gave nothing back, and its transfer arrived; the one
    # paid by the sandbox gave some back; the one paid to the wallet has no time and a
    # smaller credit.
    rejected = Withdrawal.objects.get(status="rejected")
    LedgerEntry.objects.filter(withdrawal=rejected, kind=LedgerKind.WITHDRAWAL_RELEASE).delete()
    LedgerEntry.objects.filter(withdrawal=rejected, kind=LedgerKind.WITHDRAWAL_HOLD).update(amount=-900)
    Withdrawal.objects.filter(pk=rejected.pk).update(payout_status=PayoutStatus.SUCCEEDED)
    sandbox = Withdrawal.objects.get(method="alipay")
    LedgerEntry.objects.create(
        distributor=sandbox.distributor,
        kind=LedgerKind.WITHDRAWAL_RELEASE,
        amount=100,
        source_key="forged-release",
        withdrawal=sandbox,
    )
    wallet = Withdrawal.objects.get(method="store_credit")
    Withdrawal.objects.filter(pk=wallet.pk).update(paid_at=None)
    WalletEntry.objects.filter(source_key=f"withdrawal:{wallet.pk}").update(amount=1)
    c1, c2, c5, c6 = one(first, 1), one(first, 2), one(pending, 1), one(pending, 2)
    return {
        "a": shop["a"].pk,
        "b": shop["b"].pk,
        "s": stranger.pk,
        "first": first.number,
        "pending": pending.number,
        "c1": c1.pk,
        "c2": c2.pk,
        "c3": till.pk,
        "c5": c5.pk,
        "c6": c6.pk,
        "c6d": c6.distributor_id,
        "rejected": rejected.number,
        "sandbox": sandbox.number,
        "reference": sandbox.payout_reference,
        "wallet": wallet.number,
    }


# The lines as the checks write them in the shop's language.
CHINESE = [
    "佣金#{c6}（订单 {pending}）：订单未付款；订单没有2级归属，佣金却给了#{c6d}",
    "佣金#{c5}（订单 {pending}）：佣金 ¥300.01 超过计佣金额 ¥300.00；订单未付款；"
    "1级归属为分销商#{b}，佣金却给了#{s}",
    "佣金#{c3}（门店收银 西湖店 S1）：佣金 ¥500.01 超过计佣金额 ¥500.00；"
    "风控暂扣，却没有待审核的风控记录（无法放行或作废）",
    "佣金#{c2}（订单 {first}）：计佣金额 ¥1000.01 超过实付 ¥1000.00；订单未完成，佣金却已冻结或结算；"
    "风控暂扣，却没有待审核的风控记录（无法放行或作废）",
    "佣金#{c1}（订单 {first}）：订单未完成，佣金却已冻结或结算；风控审核未放行，佣金却已结算",
    "佣金#{c1}（已结算，分销商#{b}）：应入账 ¥100.00，流水为 ¥100.01",
    "佣金#{c3}（已结算，分销商#{b}）：应入账 ¥450.01，流水为 ¥0.00",
    "分销商#{a}：一级推广已付款订单数记为 1，历史为 0；一级推广销售额记为 ¥1.00，历史为 ¥0.00",
    "分销商#{b}：待结算佣金（净额）记为 ¥30.00，历史为 ¥0.00；"
    "已结算佣金（净额）记为 ¥100.00，历史为 ¥550.01；可提现余额记为 ¥10099.99，历史为 ¥42.01；"
    "一级推广已付款订单数记为 3，历史为 2；"
    "一级推广销售额记为 ¥1300.00，历史为 ¥1000.00",
    "分销商#{s}：待结算佣金（净额）记为 ¥0.00，历史为 ¥300.01",
    "提现 {sandbox}：未拒绝或失败，流水却退回 ¥1.00；由沙箱打款（{reference}），款项并未实际到账",
    "提现 {wallet}：已打款却没有打款时间",
    "提现 {rejected}：应冻结 ¥10.00，流水冻结 ¥9.00（1 笔）；已拒绝，应退回 ¥10.00，流水退回 ¥0.00；"
    "打款已到账，提现单却不是已打款",
    "提现 {wallet}：应转入商城余额 ¥20.00，余额记录为 ¥0.01",
]
ENGLISH = [
    "Commission #{c6} (order {pending}): the order is unpaid; "
    "the order has no level-2 attribution, but the commission went to #{c6d}",
    "Commission #{c5} (order {pending}): commission ¥300.01 exceeds its commission base ¥300.00; "
    "the order is unpaid; the level-1 attribution names distributor #{b}, but the commission went to #{s}",
    "Commission #{c3} (store till sale 西湖店 S1): commission ¥500.01 exceeds its commission base ¥500.00; "
    "held by risk control, but there is no open risk review (it can be neither cleared nor voided)",
    "Commission #{c2} (order {first}): commission base ¥1000.01 exceeds the ¥1000.00 paid; "
    "the order is not completed, yet the commission is frozen or settled; "
    "held by risk control, but there is no open risk review (it can be neither cleared nor voided)",
    "Commission #{c1} (order {first}): the order is not completed, yet the commission is frozen or settled; "
    "the risk review has not cleared it, yet the commission is settled",
    "Commission #{c1} (Settled, distributor #{b}): "
    "¥100.00 should be on the ledger, the entries add up to ¥100.01",
    "Commission #{c3} (Settled, distributor #{b}): "
    "¥450.01 should be on the ledger, the entries add up to ¥0.00",
    "Distributor #{a}: Paid level-1 referred orders recorded as 1, history adds up to 0; "
    "Level-1 referred sales recorded as ¥1.00, history adds up to ¥0.00",
    "Distributor #{b}: Pending commission (net) recorded as ¥30.00, history adds up to ¥0.00; "
    "Settled commission (net) recorded as ¥100.00, history adds up to ¥550.01; "
    "Withdrawable balance recorded as ¥10099.99, history adds up to ¥42.01; "
    "Paid level-1 referred orders recorded as 3, history adds up to 2; "
    "Level-1 referred sales recorded as ¥1300.00, history adds up to ¥1000.00",
    "Distributor #{s}: Pending commission (net) recorded as ¥0.00, history adds up to ¥300.01",
    "Withdrawal {sandbox}: neither rejected nor failed, yet the entries gave back ¥1.00; "
    "paid by the sandbox ({reference}): no money actually arrived",
    "Withdrawal {wallet}: marked paid but has no payment time",
    "Withdrawal {rejected}: ¥10.00 should be held, the entries hold ¥9.00 (hold entries: 1); "
    "Rejected, so ¥10.00 should be given back, the entries gave back ¥0.00; "
    "the transfer arrived, yet the withdrawal is not marked paid",
    "Withdrawal {wallet}: ¥20.00 should have gone to the store credit balance, its entry records ¥0.01",
]

_PROBLEM_LINE = re.compile(r'<li><a class="text-primary-600" href="[^"]*">(.*?)</a></li>', re.S)


def problem_lines(page: str) -> list[str]:
    return [html.unescape(line) for line in _PROBLEM_LINE.findall(page)]


def test_every_problem_reads_in_the_readers_language(shop, settings):
    values = tamper_every_kind(shop, settings)
    row = reconciliation.run(timezone.localdate())
    kept = [p["text"] for check in row.checks for p in check["problems"]]
    assert kept == [line.format(**values) for line in CHINESE]  # what exports and old readers read

    client = login(make_staff("auditor", superuser=True))
    assert problem_lines(client.get(url(row)).content.decode()) == kept
    english = problem_lines(in_english(client).get(url(row)).content.decode())
    assert english == [line.format(**values) for line in ENGLISH]
    # Only what the records say (a till sale's store) stays as written.
    assert [chinese_left(line, "西湖店 S1") for line in english] == [[]] * len(english)


def test_a_problem_kept_before_its_templates_reads_as_written(shop):
    tamper_release_lost(shop)
    new = reconciliation.run(timezone.localdate())
    rejected = Withdrawal.objects.get(status="rejected")
    old_text = f"提现 {rejected.number}：已已拒绝，应退回 ¥10.00，流水退回 ¥0.00"
    # A row written before the problems kept their templates: only their text.
    old = Reconciliation.objects.create(
        day=new.day,
        problem_count=1,
        figures=new.figures,
        checks=[
            {
                **check,
                "problems": [{"text": old_text, "model": "distribution.withdrawal", "pk": rejected.pk}]
                if check["key"] == "withdrawals"
                else [],
                "ok": check["key"] != "withdrawals",
                "more": 0,
            }
            for check in new.checks
        ],
        ran_at=timezone.now(),
    )
    client = login(make_staff("auditor", superuser=True))
    for reader in (client, in_english(client)):
        with CaptureQueriesContext(connection) as old_page:
            lines = problem_lines(reader.get(url(old)).content.decode())
        assert lines == [old_text]
        # The problems are read from the row itself: a page with more of them, in any
        # language, costs the same queries.
        with CaptureQueriesContext(connection) as new_page:
            assert len(problem_lines(reader.get(url(new)).content.decode())) == 2
        assert len(new_page) == len(old_page)


def test_a_problem_whose_templates_no_longer_fit_reads_as_written():
    kept = {
        "text": "分销商#7：可提现余额记为 ¥1.00，历史为 ¥0.00",
        "subject": [reconciliation.DISTRIBUTOR, {"id": 7}],  # a placeholder since renamed
        "why": [],
        "model": "distribution.distributor",
        "pk": 7,
    }
    assert reconciliation.problem_text(kept) == kept["text"]
