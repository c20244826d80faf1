"""Refunds and payment notifications survive a worker that dies mid-call, and count once.

A killed worker is simulated here by a `WorkerKilled` (a BaseException, which no `except
Exception` in the code catches) raised right after the far side has done its work and
before its answer is recorded: nothing after that point runs, as with SIGKILL. The real
thing — a `run_huey` consumer killed mid-refund — is in `test_worker_killed.py`
(PostgreSQL).
"""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fenxiao.core.errors import InvalidTransition
from fenxiao.orders.models import AfterSale, Order
from fenxiao.orders.services import after_sales
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.gateways import sandbox
from fenxiao.payments.gateways.base import RefundResult
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import (
    PaymentNotification,
    Refund,
    SandboxRefund,
    SandboxTrade,
)
from fenxiao.payments.services import refunds
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import make_address, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """The process running the task is gone: nothing after this point runs."""


def later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def paid_order(price=3000) -> Order:
    buyer = make_buyer()
    sku = make_product(price=price, stock=10).skus.get()
    order = place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)
    payment = start_payment(order, "sandbox")
    SandboxGateway().complete_trade(payment.out_trade_no)
    order.refresh_from_db()
    assert order.status == "pending_shipment"
    return order


def ask_refund(order: Order) -> AfterSale:
    return after_sales.request_after_sale(
        order, make_staff(), kind="refund_only", reason="退款", lines=[{"line_id": order.lines.get().pk}]
    )


@pytest.fixture
def killed_after_the_gateway_paid(monkeypatch):
    """The gateway books the refund, then the worker dies before hearing the answer."""

    def die():
        raise WorkerKilled

    monkeypatch.setattr(sandbox, "_slow_reply", die)
    return lambda: monkeypatch.setattr(sandbox, "_slow_reply", lambda: None)


def test_a_refund_whose_worker_died_mid_call_is_redriven_and_pays_once(killed_after_the_gateway_paid):
    order = paid_order(3000)
    with pytest.raises(WorkerKilled):
        ask_refund(order)  # staff-initiated: approved at once, the refund task starts on commit

    refund = Refund.objects.get()
    assert (refund.status, refund.attempts) == ("processing", 1)
    assert SandboxTrade.objects.get().refunded_amount == 3000  # the gateway did pay
    assert AfterSale.objects.get().status == "approved"  # but the mall has not heard yet
    killed_after_the_gateway_paid()  # the next worker lives

    assert refunds.sweep(later(1)) == 0  # the claim's deadline has not passed
    assert Refund.objects.get().status == "processing"
    assert refunds.sweep(later(6)) == 1

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 2)
    assert refund.gateway_refund_id == SandboxRefund.objects.get().refund_id
    assert SandboxRefund.objects.count() == 1
    assert SandboxTrade.objects.get().refunded_amount == 3000  # paid back once
    assert AfterSale.objects.get().status == "refunded"
    order.refresh_from_db()
    assert order.events.filter(kind="refunded").count() == 1
    assert refunds.sweep(later(60)) == 0


def test_a_refund_killed_before_it_was_queued_is_found_by_the_sweeper(monkeypatch):
    from fenxiao.payments import tasks

    order = paid_order(2000)
    with monkeypatch.context() as patch:
        patch.setattr(tasks, "execute_refund", lambda refund_id: None)  # the enqueue was lost
        ask_refund(order)
    assert Refund.objects.get().status == "pending"
    assert refunds.sweep() == 0  # queued a moment ago: left to the task for now
    assert refunds.sweep(later(3)) == 1
    assert Refund.objects.get().status == "succeeded"
    assert SandboxTrade.objects.get().refunded_amount == 2000


def test_a_gateway_that_does_not_answer_is_retried_with_backoff_never_failed(monkeypatch):
    order = paid_order(2000)
    original = SandboxGateway.refund

    def unreachable(self, **kwargs):
        raise ConnectionError("connect timeout")

    monkeypatch.setattr(SandboxGateway, "refund", unreachable)
    ask_refund(order)
    refund = Refund.objects.get()
    assert (refund.status, refund.attempts) == ("pending", 1)
    assert refund.last_error == "ConnectionError: connect timeout"
    assert timezone.now() + timedelta(seconds=20) < refund.next_attempt_at <= later(1)  # 30 s
    assert refunds.sweep() == 0
    assert refunds.sweep(later(2)) == 1
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("pending", 2)
    assert refund.next_attempt_at > timezone.now() + timedelta(seconds=50)  # 1 min: longer each time

    monkeypatch.setattr(SandboxGateway, "refund", original)
    assert refunds.sweep(later(10)) == 1
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == ("succeeded", 3, "")
    assert SandboxTrade.objects.get().refunded_amount == 2000


def test_the_gateway_answers_a_repeated_refund_number_with_the_first_refund():
    order = paid_order(3000)
    ask_refund(order)
    refund = Refund.objects.get()
    again = SandboxGateway().refund(
        out_trade_no=refund.payment.out_trade_no,
        out_refund_no=refund.out_refund_no,
        amount=refund.amount,
        reason="重试",
    )
    assert again == RefundResult(succeeded=True, gateway_refund_id=refund.gateway_refund_id)
    assert SandboxTrade.objects.get().refunded_amount == 3000


# --- staff retry ------------------------------------------------------------------------


def admin_client(perms):
    client = Client()
    client.force_login(make_staff(perms=perms))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("state", ["pending", "processing", "failed"])
def test_staff_can_retry_a_refund_in_every_unfinished_state(state, monkeypatch):
    from fenxiao.payments import tasks

    order = paid_order(3000)
    with monkeypatch.context() as patch:
        if state == "failed":
            refused = RefundResult(succeeded=False, failure_reason="网关维护")
            patch.setattr(SandboxGateway, "refund", lambda self, **kw: refused)
        else:
            patch.setattr(tasks, "execute_refund", lambda refund_id: None)
        ask_refund(order)
    refund = Refund.objects.get()
    if state == "processing":  # a worker claimed it, then died
        Refund.objects.filter(pk=refund.pk).update(status="processing", attempts=1, next_attempt_at=later(5))
    assert Refund.objects.get().status == state

    client = admin_client(["orders.change_aftersale", "payments.view_refund"])
    page = client.get(reverse("admin:payments_refund_change", args=[refund.pk]))
    assert "重试退款" in page.content.decode()
    response = client.post(reverse("admin:payments_refund_changelist") + f"{refund.pk}/retry/", {})
    assert response.status_code == 302

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert SandboxTrade.objects.get().refunded_amount == 3000
    assert SandboxRefund.objects.count() == 1
    assert AfterSale.objects.get().status == "refunded"


def test_staff_retry_refuses_a_finished_refund_and_changes_nothing():
    order = paid_order(3000)
    ask_refund(order)
    refund = Refund.objects.get()
    assert refund.status == "succeeded"
    with pytest.raises(InvalidTransition):
        refunds.retry_refund(refund)

    client = admin_client(["orders.change_aftersale", "payments.view_refund"])
    page = client.get(reverse("admin:payments_refund_change", args=[refund.pk]))
    assert "重试退款" not in page.content.decode()
    response = client.post(reverse("admin:payments_refund_changelist") + f"{refund.pk}/retry/", {})
    assert response.status_code == 302
    assert any("无需重试" in text for text in messages_of(response))
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 1)
    assert SandboxTrade.objects.get().refunded_amount == 3000


def test_retrying_a_failed_refund_is_refused_when_the_money_went_back_another_way(monkeypatch):
    order = paid_order(3000)
    with monkeypatch.context() as patch:
        refused = RefundResult(succeeded=False, failure_reason="网关维护")
        patch.setattr(SandboxGateway, "refund", lambda self, **kw: refused)
        ask_refund(order)
    failed = Refund.objects.get()
    assert failed.status == "failed"
    # Finance refunded the full payment again through a new after-sale path meanwhile.
    Refund.objects.create(
        payment=failed.payment,
        amount=3000,
        out_refund_no=failed.payment.out_trade_no + "R09",
        status="succeeded",
    )
    with pytest.raises(Exception, match="退款金额不能超过实付金额"):
        refunds.retry_refund(failed)
    assert Refund.objects.get(pk=failed.pk).status == "failed"


# --- the sandbox gateway's notification outbox ------------------------------------------------


def open_trade(price=3000):
    buyer = make_buyer()
    sku = make_product(price=price, stock=10).skus.get()
    order = place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)
    return order, start_payment(order, "sandbox")


def test_a_notification_whose_worker_died_mid_delivery_is_redelivered(monkeypatch):
    order, payment = open_trade()
    reach_the_mall = sandbox.deliver

    def delivered_then_killed(url, body, headers):
        reach_the_mall(url, body, headers)  # the mall applied it; the gateway never heard back
        raise WorkerKilled

    monkeypatch.setattr(sandbox, "deliver", delivered_then_killed)
    with pytest.raises(WorkerKilled):
        SandboxGateway().complete_trade(payment.out_trade_no)
    trade = SandboxTrade.objects.get()
    assert (trade.notify_status, trade.notify_attempts) == ("sending", 1)
    order.refresh_from_db()
    assert order.status == "pending_shipment"
    monkeypatch.setattr(sandbox, "deliver", reach_the_mall)

    assert sandbox.sweep_notifications(later(1)) == 0
    assert sandbox.sweep_notifications(later(3)) == 1
    trade.refresh_from_db()
    assert (trade.notify_status, trade.notify_attempts) == ("delivered", 2)
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        "accepted",
        "duplicate",
    ]
    order.refresh_from_db()
    assert (order.status, order.paid_amount) == ("pending_shipment", 3000)
    assert order.events.filter(kind="paid").count() == 1


def test_a_notification_never_acknowledged_fails_after_the_last_try_and_staff_can_resend(monkeypatch):
    order, payment = open_trade()
    reach_the_mall = sandbox.deliver
    monkeypatch.setattr(sandbox, "deliver", lambda url, body, headers: (503, b"busy"))
    SandboxGateway().complete_trade(payment.out_trade_no)
    for hours in range(1, sandbox.MAX_DELIVERIES + 2):
        sandbox.sweep_notifications(timezone.now() + timedelta(hours=hours))
    trade = SandboxTrade.objects.get()
    assert (trade.notify_status, trade.notify_attempts) == ("failed", sandbox.MAX_DELIVERIES)
    assert trade.notify_last_error == "HTTP 503 busy"
    assert sandbox.sweep_notifications(later(600)) == 0  # given up: only staff resend it
    monkeypatch.setattr(sandbox, "deliver", reach_the_mall)

    client = admin_client(["payments.change_payment", "payments.view_sandboxtrade"])
    page = client.get(reverse("admin:payments_sandboxtrade_change", args=[trade.pk]))
    assert "重新投递通知" in page.content.decode()
    assert (
        admin_client(["payments.view_sandboxtrade"])
        .post(reverse("admin:payments_sandboxtrade_changelist") + f"{trade.pk}/redeliver/", {})
        .status_code
        == 403
    )
    response = client.post(reverse("admin:payments_sandboxtrade_changelist") + f"{trade.pk}/redeliver/", {})
    assert response.status_code == 302
    trade.refresh_from_db()
    assert trade.notify_status == "delivered"
    order.refresh_from_db()
    assert order.status == "pending_shipment"

    # Delivered is final: a second resend is refused and sends nothing.
    response = client.post(reverse("admin:payments_sandboxtrade_changelist") + f"{trade.pk}/redeliver/", {})
    assert any("无需重试" in text for text in messages_of(response))
    assert SandboxTrade.objects.get().notify_attempts == trade.notify_attempts


@pytest.mark.parametrize("state", ["pending", "sending"])
def test_staff_can_resend_a_pending_or_stuck_notification(state, monkeypatch):
    from fenxiao.payments import tasks

    order, payment = open_trade()
    with monkeypatch.context() as patch:
        patch.setattr(tasks, "deliver_sandbox_notification", lambda out_trade_no: None)
        SandboxGateway().complete_trade(payment.out_trade_no)
    SandboxTrade.objects.update(notify_status=state)
    trade = SandboxTrade.objects.get()
    client = admin_client(["payments.change_payment", "payments.view_sandboxtrade"])
    response = client.post(
        reverse("admin:payments_sandboxtrade_changelist"),
        {"action": "redeliver_selected", "_selected_action": [trade.pk]},
    )
    assert response.status_code == 302
    assert SandboxTrade.objects.get().notify_status == "delivered"
    order.refresh_from_db()
    assert order.status == "pending_shipment"


def test_an_unpaid_trade_has_no_notification_to_resend():
    _, payment = open_trade()
    trade = SandboxTrade.objects.get(out_trade_no=payment.out_trade_no)
    with pytest.raises(InvalidTransition):
        sandbox.retry_notification(trade)
    assert SandboxTrade.objects.get().notify_attempts == 0


# --- the mall's side: a notification that never arrives ---------------------------------------


def test_staff_can_ask_the_gateway_when_a_notification_never_arrived(monkeypatch):
    order, payment = open_trade(2500)
    with monkeypatch.context() as patch:
        patch.setattr(sandbox, "deliver", lambda url, body, headers: (0, b"unreachable"))
        client = admin_client(["payments.change_payment", "payments.view_payment"])
        query = reverse("admin:payments_payment_changelist") + f"{payment.pk}/query/"

        # Not paid at the gateway yet: nothing changes.
        response = client.post(query, {})
        assert any("尚未支付" in text for text in messages_of(response))
        assert Order.objects.get(pk=order.pk).status == "pending_payment"

        SandboxGateway().complete_trade(payment.out_trade_no)  # paid; the notice is lost
        assert Order.objects.get(pk=order.pk).status == "pending_payment"
        page = client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
        assert "向渠道查询支付结果" in page.content.decode()
        assert admin_client(["payments.view_payment"]).post(query, {}).status_code == 403

        response = client.post(query, {})
        assert any("已入账" in text for text in messages_of(response))
        order.refresh_from_db()
        assert (order.status, order.paid_amount) == ("pending_shipment", 2500)

        # Settled: asking again is refused and changes nothing.
        response = client.post(query, {})
        assert any("无需查询" in text for text in messages_of(response))
        assert order.events.filter(kind="paid").count() == 1


def test_staff_may_retry_exactly_the_states_that_are_not_final():
    from fenxiao.payments.models import REFUND_FLOW, RETRYABLE_REFUND

    unfinished = {state for state, targets in REFUND_FLOW.transitions.items() if targets}
    assert set(RETRYABLE_REFUND) == unfinished == {"pending", "processing", "failed"}
