"""Payouts the service accepts without settling at once (WeChat 商家转账 waits for the
distributor to confirm receipt; a bank may take a while): recorded once, by whichever of
the poll, the notification or the distributor's confirmation comes first."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.distribution import payouts
from fenxiao.distribution.models import LedgerEntry, Withdrawal
from fenxiao.distribution.payouts import PayoutNotice, PayoutResult
from fenxiao.distribution.services import payouts as payout_runs
from fenxiao.notices.models import Message
from fenxiao.testing import api_for, make_staff

from .helpers import earn, ledger_sum, make_distributor

pytestmark = pytest.mark.django_db

ALIPAY = {"name": "王五", "account": "wangwu@example.com"}
NOTIFY = "/api/v1/distribution/payout-notify/alipay"


class Scripted(payouts.PayoutGateway):
    """A payout service whose answers the test sets: `answers` for transfers, `states` for
    queries, by withdrawal number."""

    answers: dict = {}
    states: dict = {}
    calls: list = []

    def transfer(self, *, out_biz_no, amount, account):
        Scripted.calls.append(("transfer", out_biz_no, amount))
        accepted = PayoutResult.pending(f"T-{out_biz_no}", "pkg-" + out_biz_no)
        answer = Scripted.answers.get(out_biz_no, accepted)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def query(self, *, out_biz_no, amount, account):
        Scripted.calls.append(("query", out_biz_no, amount))
        answer = Scripted.states[out_biz_no]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def parse_notification(self, headers, body):
        if headers.get("x-signed") != "yes":
            from fenxiao.payments.errors import SignatureInvalid

            raise SignatureInvalid()
        number, amount, state = body.decode().split(":")
        ok = state == "ok"
        result = PayoutResult.paid(f"T-{number}") if ok else PayoutResult.refused("收款人姓名不一致")
        return PayoutNotice(number, int(amount), result)


@pytest.fixture(autouse=True)
def scripted(monkeypatch, settings):
    Scripted.answers, Scripted.states, Scripted.calls = {}, {}, []
    monkeypatch.setitem(payouts.ADAPTERS, "scripted", f"{__name__}.Scripted")
    settings.PAYOUT_ADAPTERS = {"wechat": "sandbox", "alipay": "scripted"}
    return Scripted


@pytest.fixture
def rich():
    distributor = make_distributor()
    earn(distributor, 100000)  # ¥100.00 settled
    return distributor


@pytest.fixture
def finance():
    return api_for(make_staff(perms=["distribution.change_withdrawal"]))


def approved(distributor, finance, amount=2500) -> Withdrawal:
    number = api_for(distributor.user).post(
        "/distribution/withdrawals", {"amount": amount, "method": "alipay", "account": ALIPAY}
    )
    number = number.json()["number"]
    reply = finance.post(f"/staff/distribution/withdrawals/{number}/approve")
    assert reply.status_code == 200, reply.content
    return Withdrawal.objects.get(number=number)


def later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


def test_an_accepted_transfer_waits_with_its_package_and_tells_the_distributor(rich, finance):
    withdrawal = approved(rich, finance)

    assert (withdrawal.status, withdrawal.payout_status) == ("approved", "waiting")
    assert withdrawal.payout_reference == f"T-{withdrawal.number}"
    assert withdrawal.payout_package == f"pkg-{withdrawal.number}"
    assert ledger_sum(rich) == 7500  # still held
    notice = Message.objects.get(user=rich.user, kind="withdrawal_to_confirm")
    assert notice.title == "提现待确认收款" and withdrawal.number in notice.body and "¥25.00" in notice.body
    listed = api_for(rich.user).get("/distribution/withdrawals").json()["items"][0]
    assert (listed["payout_status"], listed["confirm_package"]) == ("waiting", f"pkg-{withdrawal.number}")
    # Finance cannot fail it by hand while WeChat may still pay it.
    refused = finance.post(f"/staff/distribution/withdrawals/{withdrawal.number}/failed", {"reason": "x"})
    assert (refused.status_code, refused.json()["code"]) == (409, "PAYOUT_IN_FLIGHT")


def test_the_sweeper_asks_a_waiting_transfer_less_and_less_often_and_records_it_once(rich, finance, scripted):
    withdrawal = approved(rich, finance)
    # As WeChat's look-up does, the answer to a query carries no package.
    scripted.states[withdrawal.number] = PayoutResult.pending(f"T-{withdrawal.number}")

    assert payout_runs.sweep_payouts(later(0.5)) == 0  # asked about a minute after acceptance
    assert payout_runs.sweep_payouts(later(2)) == 1
    assert [c[0] for c in scripted.calls] == ["transfer", "query"]
    polled = Withdrawal.objects.get(pk=withdrawal.pk)
    assert (polled.payout_status, polled.payout_package) == ("waiting", f"pkg-{withdrawal.number}")
    assert Message.objects.filter(kind="withdrawal_to_confirm").count() == 1  # told once

    scripted.states[withdrawal.number] = PayoutResult.paid(f"T-{withdrawal.number}")
    assert payout_runs.sweep_payouts(later(60 * 6)) == 1
    paid = Withdrawal.objects.get(pk=withdrawal.pk)
    assert (paid.status, paid.payout_status, paid.payout_package, paid.payout_next_at) == (
        "paid",
        "succeeded",
        "",
        None,
    )
    assert ledger_sum(rich) == 7500
    assert Message.objects.filter(kind="withdrawal_paid", user=rich.user).count() == 1
    # Nothing left to ask about.
    assert payout_runs.sweep_payouts(later(60 * 48)) == 0
    assert [c[0] for c in scripted.calls] == ["transfer", "query", "query"]


def test_poll_delay_grows_with_age_between_a_minute_and_an_hour(rich, finance):
    withdrawal = approved(rich, finance)
    now = withdrawal.decided_at
    assert payout_runs.poll_delay(withdrawal, now) == timedelta(minutes=1)
    assert payout_runs.poll_delay(withdrawal, now + timedelta(minutes=60)) == timedelta(minutes=10)
    assert payout_runs.poll_delay(withdrawal, now + timedelta(hours=20)) == timedelta(hours=1)


def test_a_cancelled_transfer_fails_releases_the_hold_and_tells_why(rich, finance, scripted):
    withdrawal = approved(rich, finance)
    scripted.states[withdrawal.number] = PayoutResult.refused("转账已撤销：收款用户未在规定时间内确认收款")

    payout_runs.check_payout(withdrawal.pk)

    failed = Withdrawal.objects.get(pk=withdrawal.pk)
    assert (failed.status, failed.payout_status, failed.payout_package) == ("failed", "failed", "")
    assert ledger_sum(rich) == 10000
    notice = Message.objects.get(user=rich.user, kind="withdrawal_failed")
    assert "未在规定时间内确认收款" in notice.body and "¥25.00 已退回可提现余额" in notice.body
    assert list(
        LedgerEntry.objects.filter(withdrawal=failed).order_by("pk").values_list("kind", "amount")
    ) == [("withdrawal_hold", -2500), ("withdrawal_release", 2500)]


def test_a_query_without_answer_keeps_waiting(rich, finance, scripted):
    withdrawal = approved(rich, finance)
    scripted.states[withdrawal.number] = ConnectionError("timed out")

    payout_runs.check_payout(withdrawal.pk)

    still = Withdrawal.objects.get(pk=withdrawal.pk)
    assert (still.status, still.payout_status) == ("approved", "waiting")
    assert "timed out" in still.payout_last_error and still.payout_next_at > timezone.now()
    assert ledger_sum(rich) == 7500


def test_a_signed_notification_settles_it_once_and_a_repeat_changes_nothing(rich, finance):
    withdrawal = approved(rich, finance)
    body = f"{withdrawal.number}:2500:ok".encode()
    anonymous = Client()

    forged = anonymous.post(NOTIFY, body, content_type="text/plain")
    assert (forged.status_code, forged.json()["code"]) == (400, "PAYMENT_SIGNATURE_INVALID")
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "approved"

    first = anonymous.post(NOTIFY, body, content_type="text/plain", headers={"X-Signed": "yes"})
    again = anonymous.post(NOTIFY, body, content_type="text/plain", headers={"X-Signed": "yes"})

    assert (first.status_code, first.json()["outcome"]) == (200, "recorded")
    assert (again.status_code, again.json()["outcome"]) == (200, "already_recorded")
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "paid"
    assert Message.objects.filter(kind="withdrawal_paid", user=rich.user).count() == 1
    assert ledger_sum(rich) == 7500


def test_a_notification_with_another_amount_or_number_is_not_recorded(rich, finance):
    withdrawal = approved(rich, finance)
    anonymous = Client()

    def notify(body):
        return anonymous.post(NOTIFY, body, content_type="text/plain", headers={"X-Signed": "yes"}).json()[
            "outcome"
        ]

    assert notify(f"{withdrawal.number}:2400:ok".encode()) == "amount_mismatch"
    assert notify(b"W000000000:2500:ok") == "unknown"
    assert Withdrawal.objects.get(pk=withdrawal.pk).payout_status == "waiting"


def test_notifications_for_a_method_without_one_are_refused_without_a_500():
    anonymous = Client()
    sandbox = anonymous.post(NOTIFY.replace("alipay", "wechat"), b"{}", content_type="application/json")
    assert (sandbox.status_code, sandbox.json()["code"]) == (404, "PAYOUT_NOTIFICATION_UNSUPPORTED")
    unknown = anonymous.post(NOTIFY.replace("alipay", "bank"), b"{}", content_type="application/json")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "PAYOUT_NOTIFICATION_UNSUPPORTED")


def test_the_distributor_confirming_asks_at_once(rich, finance, scripted):
    withdrawal = approved(rich, finance)
    scripted.states[withdrawal.number] = PayoutResult.paid(f"T-{withdrawal.number}")
    someone_else = make_distributor()

    other = api_for(someone_else.user).post(f"/distribution/withdrawals/{withdrawal.number}/confirmed")
    assert (other.status_code, other.json()["code"]) == (404, "WITHDRAWAL_NOT_FOUND")
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "approved"

    mine = api_for(rich.user).post(f"/distribution/withdrawals/{withdrawal.number}/confirmed")

    assert mine.status_code == 200
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "paid"


def test_staff_retry_of_a_waiting_transfer_asks_rather_than_sends_again(rich, finance, scripted):
    withdrawal = approved(rich, finance)
    scripted.states[withdrawal.number] = PayoutResult.pending(f"T-{withdrawal.number}", "pkg")

    payout_runs.retry_payout(withdrawal, make_staff(perms=["distribution.change_withdrawal"]))

    assert [c[0] for c in scripted.calls] == ["transfer", "query"]
    assert Withdrawal.objects.get(pk=withdrawal.pk).payout_status == "waiting"


def test_a_notification_arriving_while_the_worker_is_mid_call_wins_and_the_worker_records_nothing(
    rich, finance, scripted, monkeypatch
):
    monkeypatch.setattr(payout_runs, "schedule", lambda pk: None)
    withdrawal = approved(rich, finance)
    anonymous = Client()

    def transfer_while_notified(self, *, out_biz_no, amount, account):
        # WeChat Pay's notification lands before the worker's own answer does.
        anonymous.post(
            "/api/v1/distribution/payout-notify/alipay",
            f"{out_biz_no}:{amount}:ok".encode(),
            content_type="text/plain",
            headers={"X-Signed": "yes"},
        )
        return PayoutResult.pending(f"T-{out_biz_no}", "pkg")

    monkeypatch.setattr(Scripted, "transfer", transfer_while_notified)
    payout_runs.execute_payout(withdrawal.pk)

    done = Withdrawal.objects.get(pk=withdrawal.pk)
    assert (done.status, done.payout_status, done.payout_package) == ("paid", "succeeded", "")
    assert not Message.objects.filter(kind="withdrawal_to_confirm").exists()
