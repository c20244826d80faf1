"""每日对账: a shop whose money went every way agrees with itself; each kind of disagreement
is found and named; the run's cost does not grow with the rows; the backend page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.distribution.models import (
    Commission,
    CommissionStatus,
    DistributorTotals,
    LedgerEntry,
    LedgerKind,
    Reconciliation,
    Withdrawal,
)
from fenxiao.distribution.services import reconciliation, withdrawals
from fenxiao.testing import api_for, in_english, login, make_product, make_staff

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
    entry = LedgerEntry.objects.filter(kind=LedgerKind.COMMISSION).order_by("pk").first()
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
        "withdrawals": f"提现 {rejected.number}：已已拒绝，应退回 ¥10.00，流水退回 ¥0.00",
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
