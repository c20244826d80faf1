"""Withdrawals: limits, fee, every payout method, and every way one can end."""

import pytest
from django.urls import reverse

from fenxiao.customers.models import WalletEntry
from fenxiao.distribution.models import LedgerEntry, SandboxPayout, Withdrawal
from fenxiao.testing import api_for, make_staff

from .helpers import configure, earn, ledger_sum, make_distributor

pytestmark = pytest.mark.django_db

ALIPAY = {"name": "王五", "account": "wangwu@example.com"}
BANK = {"name": "王五", "bank": "招商银行杭州分行", "account": "6225880000000000"}


@pytest.fixture
def rich():
    """A distributor with ¥100.00 settled: one ¥1000.00 sale at 10%."""
    distributor = make_distributor()
    earn(distributor, 100000)
    assert ledger_sum(distributor) == 10000
    return distributor


@pytest.fixture
def finance():
    return api_for(make_staff(perms=["distribution.change_withdrawal"]))


def ask(distributor, amount, method="alipay", account=None):
    return api_for(distributor.user).post(
        "/distribution/withdrawals",
        {"amount": amount, "method": method, "account": ALIPAY if account is None else account},
    )


def test_minimum_maximum_balance_period_limit_and_fee(rich):
    configure(
        withdraw_min=1000, withdraw_max=5000, withdraw_fee_bp=60, withdraw_limit=2, withdraw_period="monthly"
    )

    low = ask(rich, 999)
    assert (low.status_code, low.json()["code"]) == (400, "WITHDRAWAL_BELOW_MINIMUM")
    assert low.json()["message"] == "最低提现 ¥10.00"
    high = ask(rich, 5001)
    assert (high.status_code, high.json()["code"]) == (400, "WITHDRAWAL_ABOVE_MAXIMUM")
    assert high.json()["message"] == "单次最高提现 ¥50.00"

    first = ask(rich, 1234)
    assert first.status_code == 201, first.content
    # fee 1234 × 0.6% = 7.404 → 7; payout 1234 − 7 = 1227
    assert {k: first.json()[k] for k in ("amount", "fee", "payout", "status")} == {
        "amount": 1234,
        "fee": 7,
        "payout": 1227,
        "status": "requested",
    }
    second = ask(rich, 5000, method="bank", account=BANK)
    # fee 5000 × 0.6% = 30; payout 4970
    assert (second.json()["fee"], second.json()["payout"]) == (30, 4970)
    # 10000 − 1234 − 5000 = 3766 left
    assert ledger_sum(rich) == 3766

    over = ask(rich, 4000)
    assert (over.status_code, over.json()["code"]) == (409, "WITHDRAWAL_ABOVE_BALANCE")
    assert over.json()["message"] == "可提现余额 ¥37.66"
    third = ask(rich, 1000)
    assert (third.status_code, third.json()["code"]) == (409, "WITHDRAWAL_LIMIT_REACHED")
    assert "最多提现2次" in third.json()["message"]
    assert Withdrawal.objects.count() == 2
    assert ledger_sum(rich) == 3766


def test_a_rejected_request_releases_the_hold_and_frees_its_slot(rich, finance):
    configure(withdraw_limit=1)
    number = ask(rich, 3000).json()["number"]
    assert ledger_sum(rich) == 7000
    assert ask(rich, 1000).json()["code"] == "WITHDRAWAL_LIMIT_REACHED"

    no_reason = finance.post(f"/staff/distribution/withdrawals/{number}/reject", {"reason": ""})
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "WITHDRAWAL_INVALID")
    rejected = finance.post(
        f"/staff/distribution/withdrawals/{number}/reject", {"reason": "收款人与实名不符"}
    )
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["reject_reason"]) == ("rejected", "收款人与实名不符")
    assert ledger_sum(rich) == 10000
    release = LedgerEntry.objects.get(kind="withdrawal_release")
    assert release.amount == 3000
    assert ask(rich, 1000).status_code == 201  # a rejected request does not use the slot


@pytest.mark.parametrize("method", ["alipay", "wechat"])
def test_electronic_payout_is_paid_through_the_sandbox(rich, finance, method):
    configure(withdraw_fee_bp=100)
    number = ask(rich, 2500, method=method).json()["number"]

    approved = finance.post(f"/staff/distribution/withdrawals/{number}/approve")

    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "paid"
    withdrawal = Withdrawal.objects.get(number=number)
    assert withdrawal.payout_reference.startswith(f"{method.upper()}-SBX-")
    # fee 2500 × 1% = 25; the recipient gets 2475
    payout = SandboxPayout.objects.get(out_biz_no=number)
    assert (payout.channel, payout.amount) == (method, 2475)
    assert ledger_sum(rich) == 10000 - 2500
    dash = api_for(rich.user).get("/distribution/dashboard").json()
    assert (dash["commission_withdrawn"], dash["commission_available"]) == (2500, 7500)


def test_a_failed_electronic_payout_releases_the_hold(rich, finance):
    number = ask(rich, 2500, account={"name": "王五", "account": "fail-x@example.cn"}).json()["number"]
    assert ledger_sum(rich) == 7500

    approved = finance.post(f"/staff/distribution/withdrawals/{number}/approve")

    assert approved.status_code == 200
    assert approved.json()["status"] == "failed"
    assert approved.json()["failure_reason"] == "收款账户不存在或未实名认证"
    assert ledger_sum(rich) == 10000
    assert not SandboxPayout.objects.exists()
    assert list(
        LedgerEntry.objects.filter(withdrawal__number=number).order_by("pk").values_list("kind", "amount")
    ) == [("withdrawal_hold", -2500), ("withdrawal_release", 2500)]


def test_store_credit_goes_to_the_distributors_wallet(rich, finance):
    configure(withdraw_fee_bp=50)
    number = ask(rich, 3000, method="store_credit", account={}).json()["number"]

    approved = finance.post(f"/staff/distribution/withdrawals/{number}/approve")

    assert approved.json()["status"] == "paid"
    # fee 3000 × 0.5% = 15; 2985 to the wallet
    entry = WalletEntry.objects.get(user=rich.user)
    assert entry.amount == 2985
    assert Withdrawal.objects.get(number=number).payout_reference == f"WALLET-{number}"
    assert ledger_sum(rich) == 7000


def test_bank_transfer_is_approved_then_marked_paid_with_its_reference(rich, finance):
    number = ask(rich, 5000, method="bank", account=BANK).json()["number"]

    approved = finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    assert approved.json()["status"] == "approved"
    paid = finance.post(f"/staff/distribution/withdrawals/{number}/paid", {"reference": "CMB20260301-0001"})

    assert paid.status_code == 200
    assert paid.json()["status"] == "paid"
    withdrawal = Withdrawal.objects.get(number=number)
    assert withdrawal.payout_reference == "CMB20260301-0001"
    assert withdrawal.paid_at is not None
    assert withdrawal.account == BANK
    assert ledger_sum(rich) == 5000


def test_a_bank_transfer_that_bounced_releases_the_hold(rich, finance):
    number = ask(rich, 5000, method="bank", account=BANK).json()["number"]
    finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    failed = finance.post(f"/staff/distribution/withdrawals/{number}/failed", {"reason": "账户已销户"})
    assert (failed.json()["status"], failed.json()["failure_reason"]) == ("failed", "账户已销户")
    assert ledger_sum(rich) == 10000


def test_approving_an_already_paid_withdrawal_is_refused_and_changes_nothing(rich, finance):
    number = ask(rich, 3000, method="store_credit", account={}).json()["number"]
    assert finance.post(f"/staff/distribution/withdrawals/{number}/approve").json()["status"] == "paid"
    ledger = list(LedgerEntry.objects.values_list("pk", "amount"))
    before = Withdrawal.objects.values().get(number=number)

    again = finance.post(f"/staff/distribution/withdrawals/{number}/approve")

    assert again.status_code == 409
    assert again.json()["code"] == "INVALID_STATE_TRANSITION"
    assert again.json()["message"] == "当前状态“已打款”不能变为“已审核，打款中”"
    assert Withdrawal.objects.values().get(number=number) == before
    assert list(LedgerEntry.objects.values_list("pk", "amount")) == ledger
    assert WalletEntry.objects.count() == 1
    assert (
        finance.post(f"/staff/distribution/withdrawals/{number}/reject", {"reason": "重复"}).status_code
        == 409
    )


def test_a_suspended_distributor_cannot_withdraw(rich):
    from .helpers import suspend

    suspend(rich)
    reply = ask(rich, 1000)
    assert reply.status_code == 403
    assert reply.json()["code"] == "NOT_A_DISTRIBUTOR"
    assert Withdrawal.objects.count() == 0


def test_staff_without_permission_cannot_approve(rich):
    number = ask(rich, 1000).json()["number"]
    reply = api_for(make_staff()).post(f"/staff/distribution/withdrawals/{number}/approve")
    assert reply.status_code == 403
    assert Withdrawal.objects.get(number=number).status == "requested"


# --- payouts survive a worker that dies mid-transfer ------------------------------------------


class WorkerKilled(BaseException):
    """The process running the task is gone: nothing after this point runs (as SIGKILL)."""


def minutes_later(minutes):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(minutes=minutes)


def test_a_payout_whose_worker_died_mid_transfer_is_redriven_and_pays_once(rich, finance, monkeypatch):
    from fenxiao.distribution import payouts
    from fenxiao.distribution.services import payouts as payout_runs

    number = ask(rich, 2500).json()["number"]
    original = payouts.SandboxPayoutGateway.transfer

    def transferred_then_killed(self, **kwargs):
        original(self, **kwargs)  # the money left; the answer never reached the worker
        raise WorkerKilled

    monkeypatch.setattr(payouts.SandboxPayoutGateway, "transfer", transferred_then_killed)
    with pytest.raises(WorkerKilled):
        finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    withdrawal = Withdrawal.objects.get(number=number)
    assert (withdrawal.status, withdrawal.payout_status, withdrawal.payout_attempts) == (
        "approved",
        "processing",
        1,
    )
    assert SandboxPayout.objects.count() == 1
    monkeypatch.setattr(payouts.SandboxPayoutGateway, "transfer", original)

    assert payout_runs.sweep_payouts(minutes_later(1)) == 0  # the claim has not expired yet
    assert payout_runs.sweep_payouts(minutes_later(6)) == 1

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status, withdrawal.payout_attempts) == (
        "paid",
        "succeeded",
        2,
    )
    payout = SandboxPayout.objects.get()
    assert (payout.out_biz_no, payout.amount) == (number, 2500)
    assert withdrawal.payout_reference == payout.reference
    assert ledger_sum(rich) == 7500  # held once, never released
    assert payout_runs.sweep_payouts(minutes_later(60)) == 0


def test_a_payout_service_that_does_not_answer_is_retried_not_failed(rich, finance, monkeypatch):
    from fenxiao.distribution import payouts
    from fenxiao.distribution.services import payouts as payout_runs

    number = ask(rich, 2500).json()["number"]
    original = payouts.SandboxPayoutGateway.transfer

    def unreachable(self, **kwargs):
        raise TimeoutError("read timeout")

    monkeypatch.setattr(payouts.SandboxPayoutGateway, "transfer", unreachable)
    approved = finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    assert approved.json()["status"] == "approved"
    withdrawal = Withdrawal.objects.get(number=number)
    assert (withdrawal.payout_status, withdrawal.payout_last_error) == (
        "pending",
        "TimeoutError: read timeout",
    )
    assert ledger_sum(rich) == 7500  # still held: the outcome is unknown, nothing released

    monkeypatch.setattr(payouts.SandboxPayoutGateway, "transfer", original)
    assert payout_runs.sweep_payouts(minutes_later(2)) == 1
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status) == ("paid", "succeeded")
    assert SandboxPayout.objects.count() == 1


@pytest.fixture
def finance_backend():
    from django.test import Client

    client = Client()
    client.force_login(make_staff(perms=["distribution.change_withdrawal", "distribution.view_withdrawal"]))
    return client


def retry_page(withdrawal):
    return reverse("admin:distribution_withdrawal_changelist") + f"{withdrawal.pk}/retry-payout/"


@pytest.mark.parametrize("state", ["pending", "processing"])
def test_finance_can_retry_a_payout_that_is_pending_or_stuck(
    rich, finance, finance_backend, monkeypatch, state
):
    from fenxiao.distribution import tasks

    number = ask(rich, 2500).json()["number"]
    with monkeypatch.context() as patch:
        patch.setattr(tasks, "execute_payout", lambda withdrawal_id: None)  # the worker never ran it
        finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    Withdrawal.objects.filter(number=number).update(payout_status=state, payout_next_at=minutes_later(5))
    withdrawal = Withdrawal.objects.get(number=number)

    page = finance_backend.get(reverse("admin:distribution_withdrawal_change", args=[withdrawal.pk]))
    assert "重试打款" in page.content.decode()
    response = finance_backend.post(retry_page(withdrawal), {"_confirm": "1"})
    assert response.status_code == 302

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status) == ("paid", "succeeded")
    assert SandboxPayout.objects.filter(out_biz_no=number).count() == 1
    assert ledger_sum(rich) == 7500


@pytest.mark.parametrize("final", ["paid", "failed", "rejected", "requested", "bank"])
def test_retrying_a_payout_that_is_not_in_flight_is_refused(rich, finance, finance_backend, final):
    from django.contrib.messages import get_messages

    account = {"name": "王五", "account": "fail-x@example.com"} if final == "failed" else None
    if final == "bank":
        number = ask(rich, 2500, method="bank", account=BANK).json()["number"]
    else:
        number = ask(rich, 2500, account=account).json()["number"]
    if final in ("paid", "failed", "bank"):
        finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    elif final == "rejected":
        finance.post(f"/staff/distribution/withdrawals/{number}/reject", {"reason": "资料不符"})
    withdrawal = Withdrawal.objects.get(number=number)
    before = (withdrawal.status, withdrawal.payout_status, withdrawal.payout_attempts, ledger_sum(rich))
    assert withdrawal.status == ("approved" if final == "bank" else final)

    page = finance_backend.get(reverse("admin:distribution_withdrawal_change", args=[withdrawal.pk]))
    assert "重试打款" not in page.content.decode()
    response = finance_backend.post(
        reverse("admin:distribution_withdrawal_changelist"),
        {"action": "retry_payout_selected", "_selected_action": [withdrawal.pk]},
    )
    assert response.status_code == 302
    assert any("打款" in str(m) for m in get_messages(response.wsgi_request))
    withdrawal.refresh_from_db()
    assert (
        withdrawal.status,
        withdrawal.payout_status,
        withdrawal.payout_attempts,
        ledger_sum(rich),
    ) == before
    assert SandboxPayout.objects.count() == (1 if final == "paid" else 0)


def test_a_payout_with_an_unknown_outcome_cannot_be_marked_failed_or_paid_by_hand(
    rich, finance, finance_backend, monkeypatch
):
    from fenxiao.distribution import payouts

    number = ask(rich, 2500).json()["number"]

    def unreachable(self, **kwargs):
        raise TimeoutError("read timeout")

    monkeypatch.setattr(payouts.SandboxPayoutGateway, "transfer", unreachable)
    finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    assert Withdrawal.objects.get(number=number).payout_status == "pending"

    reply = finance.post(f"/staff/distribution/withdrawals/{number}/failed", {"reason": "超时"})
    assert (reply.status_code, reply.json()["code"]) == (409, "PAYOUT_IN_FLIGHT")
    # The transfer may still arrive: paying by bank as well could pay twice.
    reply = finance.post(f"/staff/distribution/withdrawals/{number}/paid", {"reference": "CMB-1"})
    assert (reply.status_code, reply.json()["code"]) == (409, "PAYOUT_IN_FLIGHT")
    assert Withdrawal.objects.get(number=number).status == "approved"
    assert ledger_sum(rich) == 7500  # still held
    # The backend offers the retry, which asks the service how it ended, and nothing by hand.
    withdrawal = Withdrawal.objects.get(number=number)
    page = finance_backend.get(reverse("admin:distribution_withdrawal_change", args=[withdrawal.pk]))
    page = page.content.decode()
    assert reverse("admin:distribution_withdrawal_retry_payout", args=[withdrawal.pk]) in page
    for name in ("mark_paid", "mark_failed"):
        assert reverse(f"admin:distribution_withdrawal_{name}", args=[withdrawal.pk]) not in page


@pytest.mark.parametrize(
    "adapters",
    [
        {"wechat": "", "alipay": ""},  # production before a real adapter is added
        {"wechat": "sandbox", "alipay": "sandbox"},  # the sandbox, outside demo mode
    ],
)
def test_without_a_payout_adapter_finance_pays_by_hand(rich, finance, settings, adapters):
    settings.PAYOUT_ADAPTERS = adapters
    settings.DEMO_MODE = settings.DEBUG = False
    number = ask(rich, 2500).json()["number"]

    approved = finance.post(f"/staff/distribution/withdrawals/{number}/approve")

    assert approved.status_code == 200, approved.content
    withdrawal = Withdrawal.objects.get(number=number)
    # Nobody was "paid": the withdrawal waits, held, for finance's transfer.
    assert (withdrawal.status, withdrawal.payout_status, withdrawal.payout_attempts) == ("approved", "", 0)
    assert not SandboxPayout.objects.exists()
    assert ledger_sum(rich) == 7500
    paid = finance.post(f"/staff/distribution/withdrawals/{number}/paid", {"reference": "ALI20261202-7"})
    assert paid.json()["status"] == "paid"
    assert Withdrawal.objects.get(number=number).payout_reference == "ALI20261202-7"


def test_a_payout_queued_before_its_adapter_was_removed_goes_to_finance(rich, finance, settings, monkeypatch):
    from fenxiao.distribution.services import payouts as payout_runs

    monkeypatch.setattr(payout_runs, "schedule", lambda pk: None)  # approved, not yet sent
    never_tried = ask(rich, 2500).json()["number"]
    tried = ask(rich, 1500).json()["number"]
    for number in (never_tried, tried):
        finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    Withdrawal.objects.filter(number=tried).update(payout_attempts=1)  # its answer was lost
    settings.PAYOUT_ADAPTERS = {"wechat": "", "alipay": ""}

    assert payout_runs.sweep_payouts(minutes_later(3)) == 2

    first, second = (Withdrawal.objects.get(number=n) for n in (never_tried, tried))
    assert (first.status, first.payout_status, first.payout_next_at) == ("approved", "", None)
    assert "人工转账" in first.payout_last_error
    # The second may have been paid: it is neither handed over nor failed, only looked at hourly.
    assert (second.status, second.payout_status) == ("approved", "pending")
    assert payout_runs.sweep_payouts(minutes_later(30)) == 0
    refused = finance.post(f"/staff/distribution/withdrawals/{tried}/failed", {"reason": "x"})
    assert refused.status_code == 409
    assert not SandboxPayout.objects.exists()
    assert ledger_sum(rich) == 6000
