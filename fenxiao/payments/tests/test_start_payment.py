"""Starting a payment while another request for the same order opens one: the moment
between a request closing the trades it cannot use and taking the order's lock, replayed
step by step (on SQLite and PostgreSQL; `test_start_payment_concurrency` races it for real)."""

import pytest

from fenxiao.orders.models import Order
from fenxiao.payments.models import Payment, PaymentStatus, SandboxTrade
from fenxiao.payments.services import payments
from fenxiao.testing import assert_refused

from .helpers import place_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wechatpay")]

BUYER_IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def gateways(wechatpay, settings):
    settings.PAYMENT_GATEWAYS = ["wechatpay", "wechatpay_h5", "sandbox"]


def meanwhile(monkeypatch, *others):
    """Each time the request under test has read the order's open payments, another request
    opens a trade with the next gateway of `others` before it goes on."""
    read = payments._open_payments
    queue = list(others)
    other_running = []

    def read_then_another_opens(order):
        seen = read(order)
        if queue and not other_running:
            other_running.append(True)
            try:
                payments.start_payment(Order.objects.get(pk=order.pk), queue.pop(0), client_ip=BUYER_IP)
            finally:
                other_running.clear()
        return seen

    monkeypatch.setattr(payments, "_open_payments", read_then_another_opens)


def test_a_trade_opened_by_another_request_meanwhile_is_closed_before_this_one_opens(fake, monkeypatch):
    client, number = place_order()
    meanwhile(monkeypatch, "sandbox")

    pay = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"})

    assert pay.status_code == 200, pay.content
    other = Payment.objects.get(gateway="sandbox")
    # The other request's trade is closed at its gateway: the buyer can pay only once.
    assert other.status == PaymentStatus.CLOSED
    assert SandboxTrade.objects.get(out_trade_no=other.out_trade_no).status == "closed"
    [opened] = Payment.objects.filter(status=PaymentStatus.CREATED)
    assert opened.out_trade_no == pay.json()["out_trade_no"] and opened.gateway == "wechatpay_h5"
    assert fake.trades[opened.out_trade_no].state == "NOTPAY"


def test_a_request_that_keeps_losing_the_order_to_others_is_refused_clearly(fake, monkeypatch):
    client, number = place_order()
    meanwhile(monkeypatch, "sandbox", "wechatpay", "sandbox")

    body = assert_refused(
        client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"}), 409, "PAYMENT_IN_PROGRESS"
    )

    assert "另一笔支付" in body["message"]
    # Whatever the others opened last is the one open trade; nothing of this request's.
    [still_open] = Payment.objects.filter(status=PaymentStatus.CREATED)
    assert still_open.gateway == "sandbox"
    assert not Payment.objects.filter(gateway="wechatpay_h5").exists()
    assert [t.state for t in fake.trades.values()] == ["CLOSED"]


def test_a_trade_its_gateway_cannot_close_does_not_stop_the_buyer_paying_another_way(fake):
    client, number = place_order()
    first = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay"})
    assert first.status_code == 200, first.content
    # WeChat Pay cannot be reached (its answers do not verify): its trade cannot be closed.
    fake.forge_answers = True

    other = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"})

    assert other.status_code == 200, other.content
    assert other.json()["out_trade_no"] != first.json()["out_trade_no"]
    assert sorted(Payment.objects.filter(status=PaymentStatus.CREATED).values_list("gateway", flat=True)) == [
        "sandbox",
        "wechatpay",
    ]
    # Once WeChat Pay answers again, going back to it closes the sandbox trade.
    fake.forge_answers = False
    again = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay"})
    assert again.status_code == 200, again.content
    assert Payment.objects.get(gateway="sandbox").status == PaymentStatus.CLOSED


def test_a_trade_found_paid_while_reusing_another_stops_the_buyer_paying_twice(fake):
    client, number = place_order()
    wechat = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay"}).json()["out_trade_no"]
    fake.forge_answers = True  # WeChat Pay unreachable: its trade stays open
    sandbox = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"})
    assert sandbox.status_code == 200, sandbox.content
    fake.forge_answers = False
    fake.pay(wechat)  # paid in WeChat; its notification is late

    again = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"})

    assert_refused(again, 409, "PAYMENT_NOT_ALLOWED")
    assert Order.objects.get(number=number).status == "pending_shipment"  # applied on the way
    assert not Payment.objects.filter(status=PaymentStatus.CREATED).exists()
    assert SandboxTrade.objects.get(out_trade_no=sandbox.json()["out_trade_no"]).status == "closed"
