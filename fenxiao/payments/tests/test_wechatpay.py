"""WeChat Pay (API v3, Native) against a local stand-in that checks the protocol: signed
requests, verified answers, encrypted notifications, closing, and asynchronous refunds."""

import datetime
import time
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.db import transaction
from django.test import Client
from django.utils import timezone

from fenxiao.orders.models import Order
from fenxiao.payments.errors import RefundExceedsPayment
from fenxiao.payments.gateways import gateway_choices, wechatpay_client
from fenxiao.payments.models import Payment, PaymentNotification, PaymentStatus, Refund, RefundStatus
from fenxiao.payments.services import refunds
from fenxiao.testing import api_for, assert_refused, make_address, make_buyer, make_product

from . import wechatpay_fake
from .helpers import place_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wechatpay")]

NOTIFY_URL = "/api/v1/payments/notify/wechatpay"


def notify(body: bytes, headers: dict):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return Client().post(NOTIFY_URL, body, content_type="application/json", **extra)


def start_wechatpay(client, number):
    reply = client.post(
        f"/orders/{number}/pay", {"gateway": "wechatpay", "return_url": f"/orders/{number}/result/"}
    )
    assert reply.status_code == 200, reply.content
    return reply.json()


def paid_order(fake):
    client, number = place_order()
    pay = start_wechatpay(client, number)
    fake.pay(pay["out_trade_no"])
    assert notify(*fake.notification(pay["out_trade_no"])).status_code == 200
    return client, Order.objects.get(number=number), pay


def test_the_buyer_scans_pays_and_the_signed_notification_marks_the_order_paid(fake):
    client, number = place_order(price=4990, quantity=2)
    order = Order.objects.get(number=number)

    pay = start_wechatpay(client, number)

    assert pay["gateway"] == "wechatpay"
    assert pay["pay_url"].endswith(f"/pay/{pay['out_trade_no']}")
    assert pay["pay_code"].startswith("weixin://wxpay/bizpayurl?pr=")
    trade = fake.trades[pay["out_trade_no"]]
    assert trade.amount == 9980
    assert trade.notify_url == "https://shop.example.com/api/v1/payments/notify/wechatpay"
    # WeChat Pay closes the trade itself when the order's time to pay runs out (China time).
    expected = timezone.localtime(order.pay_deadline, timezone.get_fixed_timezone(480)).replace(microsecond=0)
    assert datetime.datetime.fromisoformat(trade.time_expire) == expected
    assert trade.time_expire.endswith("+08:00")

    page = client.client.get(f"/pay/{pay['out_trade_no']}")
    assert page.status_code == 200
    assert "<svg" in page.content.decode() and "¥99.80" in page.content.decode()
    assert client.client.get(f"/pay/{pay['out_trade_no']}?state=1").json()["paid"] is False

    fake.pay(pay["out_trade_no"])
    body, headers = fake.notification(pay["out_trade_no"])
    answer = notify(body, headers)

    assert answer.status_code == 200 and answer.json()["code"] == "SUCCESS"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_SHIPMENT
    payment = Payment.objects.get(out_trade_no=pay["out_trade_no"])
    assert payment.transaction_id == fake.trades[pay["out_trade_no"]].transaction_id
    assert payment.paid_at == datetime.datetime(2026, 12, 3, 2, 34, 56, tzinfo=datetime.UTC)
    # WeChat Pay retries until answered: the same notification again changes nothing.
    assert notify(body, headers).json()["outcome"] == "duplicate"
    assert client.client.get(f"/pay/{pay['out_trade_no']}?state=1").json()["paid"] is True
    # The page now sends the buyer on to the order.
    assert client.client.get(f"/pay/{pay['out_trade_no']}")["Location"] == f"/orders/{number}/result/"


def test_paying_again_reuses_the_open_trade(fake):
    client, number = place_order()
    first = start_wechatpay(client, number)
    second = start_wechatpay(client, number)
    assert first["out_trade_no"] == second["out_trade_no"] and first["pay_code"] == second["pay_code"]
    assert len(fake.trades) == 1


@pytest.mark.parametrize(
    "tamper, code",
    [
        ("signature", "PAYMENT_SIGNATURE_INVALID"),
        ("serial", "PAYMENT_SIGNATURE_INVALID"),
        ("sign_test", "PAYMENT_SIGNATURE_INVALID"),
        ("other_key", "PAYMENT_SIGNATURE_INVALID"),
        ("ciphertext", "PAYMENT_SIGNATURE_INVALID"),
        ("other_merchant", "PAYMENT_SIGNATURE_INVALID"),
        ("old", "PAYMENT_NOTIFICATION_EXPIRED"),
        ("amount", "PAYMENT_AMOUNT_MISMATCH"),
        ("not_json", "PAYMENT_NOTIFICATION_MALFORMED"),
    ],
)
def test_a_notification_that_does_not_hold_is_refused_and_changes_nothing(fake, tamper, code):
    client, number = place_order()
    pay = start_wechatpay(client, number)
    fake.pay(pay["out_trade_no"])
    options = {
        "old": {"timestamp": int(time.time()) - 3600},
        "other_key": {"key": wechatpay_fake.new_key()},
        "amount": {"total": 1},
        "other_merchant": {"mchid": "1900000999"},
    }.get(tamper, {})
    body, headers = fake.notification(pay["out_trade_no"], **options)
    if tamper == "signature":
        headers["Wechatpay-Signature"] = headers["Wechatpay-Signature"][:-8] + "AAAAAAA="
    elif tamper == "serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0119000001092025010100000099"
    elif tamper == "sign_test":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    elif tamper == "ciphertext":
        body = body.replace(b'"nonce": "', b'"nonce": "0')  # the signature no longer holds either
        headers = fake.signed_headers(body)  # re-signed: only the decryption can tell
    elif tamper == "not_json":
        body = b"not json"
        headers = fake.signed_headers(body)

    answer = notify(body, headers)

    assert_refused(answer, 400, code)
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT
    assert PaymentNotification.objects.filter(gateway="wechatpay").exclude(outcome="accepted").exists()


def test_a_genuine_notification_that_is_not_a_payment_is_acknowledged_and_applies_nothing(fake):
    client, number = place_order()
    pay = start_wechatpay(client, number)
    fake.pay(pay["out_trade_no"])
    body, _ = fake.notification(pay["out_trade_no"])
    body = body.replace(b"TRANSACTION.SUCCESS", b"REFUND.SUCCESS")

    answer = notify(body, fake.signed_headers(body))

    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT


def test_requests_are_signed_with_the_merchant_key(fake, settings, tmp_path):
    client, number = place_order()
    # The merchant key on this node is not the one registered with WeChat Pay.
    (tmp_path / "wrong.pem").write_bytes(wechatpay_fake.private_pem(wechatpay_fake.new_key()))
    settings.WECHATPAY = {**settings.WECHATPAY, "PRIVATE_KEY_FILE": str(tmp_path / "wrong.pem")}

    reply = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay"})

    body = assert_refused(reply, 502, "PAYMENT_GATEWAY_REFUSED")
    assert "SIGN_ERROR" in body["details"]["gateway"]
    assert not Payment.objects.exists() and not fake.trades


def test_an_answer_wechatpay_did_not_sign_is_no_answer(fake):
    client, number = place_order()
    fake.forge_answers = True

    reply = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay"})

    assert_refused(reply, 503, "PAYMENT_GATEWAY_UNREACHABLE")
    assert not Payment.objects.exists()


def test_an_unreachable_gateway_is_a_clear_refusal(settings):
    client, number = place_order()
    settings.WECHATPAY = {**settings.WECHATPAY, "API_BASE": "http://127.0.0.1:9"}
    assert_refused(
        client.post(f"/orders/{number}/pay", {"gateway": "wechatpay"}), 503, "PAYMENT_GATEWAY_UNREACHABLE"
    )


def test_i_have_paid_asks_the_gateway_when_the_notification_is_late(fake):
    client, number = place_order()
    pay = start_wechatpay(client, number)
    page = f"/pay/{pay['out_trade_no']}"

    early = client.client.post(page)
    assert early.status_code == 200 and "暂未查到支付结果" in early.content.decode()

    fake.pay(pay["out_trade_no"])
    # Asked a moment ago: the gateway is not asked again yet.
    assert client.client.post(page).status_code == 200
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT
    from django.core.cache import cache

    cache.delete(f"payment-query:{Payment.objects.get(out_trade_no=pay['out_trade_no']).pk}")
    late = client.client.post(page)

    assert late.status_code == 302 and late["Location"] == f"/orders/{number}/result/"
    assert Order.objects.get(number=number).status == Order.Status.PENDING_SHIPMENT
    # The notification arriving afterwards is a duplicate.
    assert notify(*fake.notification(pay["out_trade_no"])).json()["outcome"] == "duplicate"


def test_cancelling_closes_the_trade_at_wechatpay(fake):
    client, number = place_order()
    pay = start_wechatpay(client, number)

    assert client.post(f"/orders/{number}/cancel", {"reason": "不想要了"}).status_code == 200

    assert fake.trades[pay["out_trade_no"]].state == "CLOSED"
    assert Payment.objects.get(out_trade_no=pay["out_trade_no"]).status == PaymentStatus.CLOSED
    assert Order.objects.get(number=number).status == Order.Status.CANCELLED
    assert client.client.get(f"/pay/{pay['out_trade_no']}").status_code == 200


def test_a_trade_paid_before_the_cancel_is_applied_instead(fake):
    client, number = place_order()
    pay = start_wechatpay(client, number)
    fake.pay(pay["out_trade_no"])  # paid; the notification has not arrived

    assert_refused(client.post(f"/orders/{number}/cancel", {"reason": "不想要了"}), 409, "ORDER_ALREADY_PAID")

    assert Order.objects.get(number=number).status == Order.Status.PENDING_SHIPMENT
    assert fake.trades[pay["out_trade_no"]].state == "SUCCESS"


def refund(order, amount):
    with transaction.atomic():
        return refunds.refund_order(order, amount, reason="商品有破损，买家申请退款")


def test_a_refund_is_asked_about_until_wechatpay_has_paid_it(fake):
    _, order, pay = paid_order(fake)

    row = refund(order, 3000)

    row.refresh_from_db()
    # WeChat Pay took it (PROCESSING): pending here, asked about again later.
    assert row.status == RefundStatus.PENDING and row.gateway_refund_id
    assert row.last_error == "渠道退款处理中"
    taken = fake.refunds[row.out_refund_no]
    assert (taken.amount, taken.out_trade_no) == (3000, pay["out_trade_no"])
    posts = [r for r in fake.requests if r[:2] == ("POST", "/v3/refund/domestic/refunds")]
    assert len(posts) == 1 and '"total":9980' in posts[0][2]

    refunds.sweep(timezone.now() + datetime.timedelta(hours=2))

    row.refresh_from_db()
    assert row.status == RefundStatus.SUCCEEDED and row.gateway_refund_id == taken.refund_id
    # Asked again under the same number, never requested twice.
    assert len([r for r in fake.requests if r[:2] == ("POST", "/v3/refund/domestic/refunds")]) == 1
    assert fake.trades[pay["out_trade_no"]].refunded == 3000


def test_a_refused_refund_fails_with_wechatpays_reason(fake):
    _, order, _ = paid_order(fake)
    fake.refuse_refund = (400, "INVALID_REQUEST")

    row = refund(order, 1000)

    row.refresh_from_db()
    assert row.status == RefundStatus.FAILED and "INVALID_REQUEST" in row.failure_reason


def test_a_refund_the_merchant_cannot_fund_yet_is_tried_again(fake):
    _, order, _ = paid_order(fake)
    fake.refuse_refund = (403, "NOT_ENOUGH")

    row = refund(order, 1000)

    row.refresh_from_db()
    assert row.status == RefundStatus.PENDING and "NOT_ENOUGH" in row.last_error
    refunds.sweep(timezone.now() + datetime.timedelta(hours=2))
    refunds.sweep(timezone.now() + datetime.timedelta(hours=4))
    row.refresh_from_db()
    assert row.status == RefundStatus.SUCCEEDED
    assert Refund.objects.filter(pk=row.pk, attempts=3).exists()


def test_an_abnormal_refund_waits_for_the_merchant_and_still_counts(fake):
    _, order, _ = paid_order(fake)
    fake.refund_first_status, fake.refund_later_status = "ABNORMAL", "ABNORMAL"

    row = refund(order, 1000)

    row.refresh_from_db()
    # The money is held at WeChat Pay: not final, and not refundable a second time.
    assert row.status == RefundStatus.PENDING and "商户平台" in row.last_error
    with pytest.raises(RefundExceedsPayment), transaction.atomic():
        refunds.refund_order(order, 9000, reason="再退一次")
    # The merchant re-routes it on the merchant platform; the next question finds it paid.
    fake.refunds[row.out_refund_no].status = "SUCCESS"
    refunds.sweep(timezone.now() + timedelta(hours=2))
    row.refresh_from_db()
    assert row.status == RefundStatus.SUCCEEDED


def test_a_failed_refund_asked_again_goes_under_a_new_number(fake):
    _, order, _ = paid_order(fake)
    fake.refuse_refund = (400, "INVALID_REQUEST")
    row = refund(order, 1000)
    row.refresh_from_db()
    assert row.status == RefundStatus.FAILED

    retried = refunds.retry_refund(row)

    retried.refresh_from_db()
    assert retried.status == RefundStatus.PENDING and retried.last_error == "渠道退款处理中"
    assert retried.out_refund_no != row.out_refund_no and retried.out_refund_no.startswith(row.out_refund_no)
    assert fake.refunds[retried.out_refund_no].amount == 1000


def test_a_rejected_signature_on_a_refund_is_tried_again(fake):
    _, order, _ = paid_order(fake)
    fake.refuse_refund = (401, "SIGN_ERROR")
    row = refund(order, 1000)
    row.refresh_from_db()
    assert row.status == RefundStatus.PENDING and "SIGN_ERROR" in row.last_error


def test_a_number_whose_answer_was_lost_is_not_used_again(fake, monkeypatch):
    client, number = place_order()

    # WeChat Pay opens the trade, then the mall fails before writing its row.
    def lost(**fields):
        raise ConnectionError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(Payment.objects, "create", lost)
        with pytest.raises(ConnectionError):
            client.post(f"/orders/{number}/pay", {"gateway": "wechatpay"})
    [orphan] = fake.trades

    pay = start_wechatpay(client, number)

    assert pay["out_trade_no"] != orphan and len(fake.trades) == 2


def test_an_expired_qr_code_is_replaced(fake):
    client, number = place_order()
    first = start_wechatpay(client, number)
    Payment.objects.filter(out_trade_no=first["out_trade_no"]).update(
        created_at=timezone.now() - timedelta(minutes=111)
    )

    second = start_wechatpay(client, number)

    assert second["out_trade_no"] != first["out_trade_no"]
    assert fake.trades[first["out_trade_no"]].state == "CLOSED"
    assert Payment.objects.get(out_trade_no=first["out_trade_no"]).status == PaymentStatus.CLOSED


def test_the_pay_page_offers_wechatpay_by_name():
    assert gateway_choices() == [("wechatpay", "微信支付"), ("sandbox", "沙箱支付")]
    buyer = make_buyer()
    client = api_for(buyer)
    sku = make_product(price=100).skus.get()
    number = client.post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": make_address(buyer).pk}
    ).json()["number"]
    web = Client()
    web.force_login(buyer)
    page = web.get(f"/orders/{number}/pay/").content.decode()
    assert 'value="wechatpay" checked' in page and "微信支付" in page

    chosen = web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay"})
    payment = Payment.objects.get(order__number=number, gateway="wechatpay")
    assert chosen.status_code == 302 and chosen["Location"] == f"/pay/{payment.out_trade_no}"


def test_the_system_check_says_what_is_missing(settings, tmp_path):
    assert [m for m in run_checks() if m.id.startswith("fenxiao.E")] == []

    settings.WECHATPAY = {**settings.WECHATPAY, "API_V3_KEY": "short", "APPID": ""}
    assert wechatpay_client.problems() == ["WECHATPAY_APPID is not set"]
    settings.WECHATPAY = {**settings.WECHATPAY, "APPID": wechatpay_fake.APPID}
    (tmp_path / "broken.pem").write_text("not a key")
    settings.WECHATPAY = {**settings.WECHATPAY, "PUBLIC_KEY_FILE": str(tmp_path / "broken.pem")}
    found = [m.msg for m in run_checks() if m.id == "fenxiao.E010"]
    assert len(found) == 2
    assert "32-character" in found[0] and "PUBLIC_KEY_FILE" in found[1]


def test_while_wechatpay_switches_keys_both_are_accepted(fake, settings, tmp_path):
    client, number = place_order()
    pay = start_wechatpay(client, number)
    fake.pay(pay["out_trade_no"])
    new_key = wechatpay_fake.new_key()
    (tmp_path / "next.pem").write_bytes(wechatpay_fake.public_pem(new_key))
    body, headers = fake.notification(pay["out_trade_no"], key=new_key)
    headers["Wechatpay-Serial"] = "PUB_KEY_ID_NEXT"

    assert_refused(notify(body, headers), 400, "PAYMENT_SIGNATURE_INVALID")  # not announced yet
    settings.WECHATPAY = {
        **settings.WECHATPAY,
        "NEXT_PUBLIC_KEY_ID": "PUB_KEY_ID_NEXT",
        "NEXT_PUBLIC_KEY_FILE": str(tmp_path / "next.pem"),
    }
    assert notify(body, headers).json()["outcome"] == "accepted"
    # The new id with the old key's signature does not pass.
    body2, headers2 = fake.notification(pay["out_trade_no"])
    headers2["Wechatpay-Serial"] = "PUB_KEY_ID_NEXT"
    assert_refused(notify(body2, headers2), 400, "PAYMENT_SIGNATURE_INVALID")
