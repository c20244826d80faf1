"""Alipay 单笔转账 for withdrawals, against the local Alipay stand-in (`alipay_fake`) in
公钥证书 mode, which Alipay requires for transfers: paid, under way then asked, refused for
the recipient, retried for the merchant's side, never paid twice."""

import json
import logging

import pytest

from fenxiao.distribution import payouts
from fenxiao.distribution.models import LedgerEntry, Withdrawal
from fenxiao.distribution.payouts.alipay import AlipayTransferDelayed, AlipayTransferGateway
from fenxiao.distribution.services import payouts as payout_runs
from fenxiao.payments.errors import GatewayUnreachable
from fenxiao.payments.gateways.alipay_client import AlipayClient
from fenxiao.payments.tests.alipay_fake import FakeAlipay, _certificate, _name, pem
from fenxiao.payments.tests.wechatpay_fake import new_key
from fenxiao.testing import api_for, make_staff

from .helpers import earn, ledger_sum, make_distributor

WANG = {"name": "王五", "account": "wangwu@example.com"}


@pytest.fixture(scope="module")
def alipay_server():
    """An Alipay gateway stand-in on a local socket, shared by this module's tests."""
    server = FakeAlipay().start()
    yield server
    server.stop()


@pytest.fixture
def alipay(alipay_server, settings, tmp_path):
    """The mall set up for Alipay in certificate mode against the stand-in, empty."""
    alipay_server.reset()
    settings.ALIPAY = alipay_server.settings(tmp_path, cert_mode=True)
    return alipay_server


def gateway():
    return AlipayTransferGateway("alipay")


def sent(alipay, index=-1, method="alipay.fund.trans.uni.transfer") -> dict:
    """The biz_content of a call of `method` the fake was sent (the last by default)."""
    calls = [form for form in alipay.forms if form.get("method") == method]
    return json.loads(calls[index]["biz_content"])


def test_a_transfer_is_paid_with_alipays_order_id(alipay):
    result = gateway().transfer(out_biz_no="W20261203001", amount=12345, account=WANG)

    booked = alipay.transfers["W20261203001"]
    assert (result.succeeded, result.waiting, result.reference) == (True, False, booked.order_id)
    assert (booked.amount, booked.identity, booked.name) == (12345, "wangwu@example.com", "王五")
    assert alipay.calls == ["alipay.fund.trans.uni.transfer"]
    assert sent(alipay) == {
        "out_biz_no": "W20261203001",
        "trans_amount": "123.45",
        "product_code": "TRANS_ACCOUNT_NO_PWD",
        "biz_scene": "DIRECT_TRANSFER",
        "order_title": "佣金提现",
        "payee_info": {"identity": "wangwu@example.com", "identity_type": "ALIPAY_LOGON_ID", "name": "王五"},
        "remark": "佣金提现 W20261203001",
    }


def test_the_title_on_the_recipients_bill_is_a_setting(alipay, settings):
    settings.ALIPAY = {**settings.ALIPAY, "TRANSFER_TITLE": "某某商城佣金"}
    assert gateway().transfer(out_biz_no="W1", amount=100, account=WANG).succeeded
    assert sent(alipay)["order_title"] == "某某商城佣金"


def test_a_transfer_under_way_is_pending_then_asked_until_paid(alipay):
    alipay.transfer_status = "DEALING"
    first = gateway().transfer(out_biz_no="W2", amount=5000, account=WANG)
    order_id = alipay.transfers["W2"].order_id
    assert (first.succeeded, first.waiting, first.reference) == (False, True, order_id)

    still = gateway().query(out_biz_no="W2", amount=5000, account=WANG)
    assert (still.succeeded, still.waiting) == (False, True)
    assert sent(alipay, method="alipay.fund.trans.common.query") == {
        "out_biz_no": "W2",
        "product_code": "TRANS_ACCOUNT_NO_PWD",
        "biz_scene": "DIRECT_TRANSFER",
    }

    alipay.finish_transfer("W2")
    done = gateway().query(out_biz_no="W2", amount=5000, account=WANG)
    assert (done.succeeded, done.reference) == (True, order_id)
    assert alipay.calls[-1] == "alipay.fund.trans.common.query"


def test_a_transfer_that_failed_while_under_way_is_refused_with_the_reason(alipay):
    alipay.transfer_status = "DEALING"
    gateway().transfer(out_biz_no="W3", amount=5000, account=WANG)
    alipay.finish_transfer("W3", "FAIL", error_code="PAYEE_ACCOUNT_STATUS_ERROR")

    result = gateway().query(out_biz_no="W3", amount=5000, account=WANG)

    assert (result.succeeded, result.waiting) == (False, False)
    assert result.failure_reason == "收款支付宝账户状态异常，无法收款"
    assert result.reference == alipay.transfers["W3"].order_id


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("fail-nobody@example.com", "收款支付宝账号不存在"),
        ("wrongname@example.com", "收款人姓名与支付宝实名不一致"),
        ("unverified@example.com", "收款支付宝账户未实名认证"),
    ],
)
def test_a_recipient_alipay_refuses_is_refused_in_plain_chinese(alipay, login, reason):
    result = gateway().transfer(out_biz_no="W4", amount=5000, account={"name": "王五", "account": login})

    assert (result.succeeded, result.waiting, result.failure_reason) == (False, False, reason)
    assert alipay.transfers == {}


@pytest.mark.parametrize(
    ("sub_code", "reason"),
    [
        ("PERMIT_CHECK_PERM_IDENTITY_THEFT", "收款账户存在身份冒用风险，支付宝拒绝转账"),
        ("EXCEED_LIMIT_PERSONAL_SM_AMOUNT", "单笔金额超过支付宝转账给个人的限额"),
        ("PAYEE_ACC_OCUPIED", "该手机号对应多个支付宝账户，请核对收款账号与姓名"),
        ("INVALID_PARAMETER", "转账信息有误：转账失败"),
        ("SOMETHING_NEW", "支付宝拒绝转账：SOMETHING_NEW 转账失败"),
    ],
)
def test_refusals_for_the_request_are_mapped(alipay, sub_code, reason):
    alipay.transfer_error = sub_code
    assert gateway().transfer(out_biz_no="W5", amount=5000, account=WANG).failure_reason == reason


def test_an_amount_under_alipays_minimum_is_refused(alipay):
    result = gateway().transfer(out_biz_no="W6", amount=9, account=WANG)
    assert result.failure_reason == "金额低于支付宝单笔转账最低金额（0.10 元）"
    assert sent(alipay)["trans_amount"] == "0.09"


@pytest.mark.parametrize(
    "sub_code",
    [
        "PAYER_BALANCE_NOT_ENOUGH",
        "SYSTEM_ERROR",
        "aop.ACQ.SYSTEM_ERROR",
        "isp.unknow-error",
        "EXCEED_LIMIT_DM_AMOUNT",
    ],
)
def test_the_merchants_side_raises_and_the_same_number_pays_once_later(alipay, sub_code):
    alipay.transfer_error = sub_code
    with pytest.raises(AlipayTransferDelayed, match=sub_code.replace(".", r"\.")):
        gateway().transfer(out_biz_no="W7", amount=5000, account=WANG)
    assert alipay.transfers == {}

    alipay.transfer_error = None  # topped up / Alipay is back: the caller asks again
    again = gateway().transfer(out_biz_no="W7", amount=5000, account=WANG)

    assert again.succeeded and again.reference == alipay.transfers["W7"].order_id
    assert len(alipay.transfers) == 1


def test_the_same_number_asked_again_books_one_transfer(alipay):
    first = gateway().transfer(out_biz_no="W8", amount=5000, account=WANG)
    second = gateway().transfer(out_biz_no="W8", amount=5000, account=WANG)

    assert first == second and first.succeeded
    assert list(alipay.transfers) == ["W8"]
    assert alipay.calls == ["alipay.fund.trans.uni.transfer"] * 2


def test_the_same_number_with_other_data_is_not_refused_but_raised(alipay):
    gateway().transfer(out_biz_no="W9", amount=5000, account=WANG)
    with pytest.raises(AlipayTransferDelayed, match="PAYMENT_INFO_INCONSISTENCY"):
        gateway().transfer(out_biz_no="W9", amount=6000, account=WANG)
    assert alipay.transfers["W9"].amount == 5000


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        ({"account": "wangwu@example.com"}, "收款人真实姓名缺失"),
        ({"name": "  ", "account": "wangwu@example.com"}, "收款人真实姓名缺失"),
        ({"name": "王五"}, "收款支付宝账号缺失"),
        ({"name": "王五", "account": ""}, "收款支付宝账号缺失"),
    ],
)
def test_a_missing_name_or_account_is_refused_without_asking_alipay(alipay, account, reason):
    result = gateway().transfer(out_biz_no="W10", amount=5000, account=account)
    assert (result.succeeded, result.waiting, result.failure_reason) == (False, False, reason)
    assert alipay.calls == []


def test_asking_about_a_transfer_alipay_does_not_know_raises(alipay):
    with pytest.raises(AlipayTransferDelayed, match="ORDER_NOT_EXIST"):
        gateway().query(out_biz_no="W11", amount=5000, account=WANG)


def test_a_paid_transfer_of_another_amount_is_never_taken_as_this_one(alipay):
    gateway().transfer(out_biz_no="W12", amount=5000, account=WANG)
    with pytest.raises(AlipayTransferDelayed, match="不符"):
        gateway().query(out_biz_no="W12", amount=4000, account=WANG)
    assert gateway().query(out_biz_no="W12", amount=5000, account=WANG).succeeded


# --- certificate mode ----------------------------------------------------------------------
def test_every_request_carries_the_certificate_sns_alipay_expects(alipay, settings):
    assert "PUBLIC_KEY_FILE" not in settings.ALIPAY  # answers verify with the certificate's key

    assert gateway().transfer(out_biz_no="W13", amount=5000, account=WANG).succeeded
    gateway().query(out_biz_no="W13", amount=5000, account=WANG)

    for form in alipay.forms:
        assert form["app_cert_sn"] == alipay.app_cert_sn
        assert form["alipay_root_cert_sn"] == alipay.root_cert_sn
    # Two RSA roots count; the ECDSA root between them does not.
    assert len(alipay.root_cert_sn.split("_")) == 2
    assert AlipayClient().cert_sns() == {
        "app_cert_sn": alipay.app_cert_sn,
        "alipay_root_cert_sn": alipay.root_cert_sn,
    }


def test_an_answer_signed_by_another_key_is_no_answer(alipay):
    alipay.forge_answers = True
    with pytest.raises(GatewayUnreachable):
        gateway().transfer(out_biz_no="W14", amount=5000, account=WANG)
    with pytest.raises(GatewayUnreachable):
        gateway().query(out_biz_no="W14", amount=5000, account=WANG)


def test_answers_verify_only_with_the_key_of_the_alipay_certificate(alipay, settings, tmp_path):
    stranger = new_key()
    other = _certificate(
        _name("Someone Else"), alipay.root_certs[0].subject, stranger.public_key(), stranger, 7
    )
    (tmp_path / "other.crt").write_bytes(pem(other))
    settings.ALIPAY = {**settings.ALIPAY, "ALIPAY_CERT_FILE": str(tmp_path / "other.crt")}

    with pytest.raises(GatewayUnreachable):
        gateway().transfer(out_biz_no="W15", amount=5000, account=WANG)


def test_a_renewed_alipay_certificate_is_logged(alipay, caplog):
    alipay.answer_cert_sn = "0" * 32  # Alipay names another certificate than the one installed
    with caplog.at_level(logging.ERROR, logger="fenxiao.payments.gateways.alipay_client"):
        assert gateway().transfer(out_biz_no="W16", amount=5000, account=WANG).succeeded
    assert "0" * 32 in caplog.text and alipay.alipay_cert_sn in caplog.text


def test_public_key_mode_is_unchanged(alipay, settings, tmp_path):
    settings.ALIPAY = alipay.settings(tmp_path)  # PUBLIC_KEY_FILE, no certificates

    assert gateway().transfer(out_biz_no="W17", amount=5000, account=WANG).succeeded

    assert "app_cert_sn" not in alipay.forms[-1] and "alipay_root_cert_sn" not in alipay.forms[-1]
    assert AlipayClient().cert_sns() == {}


# --- through the withdrawal service ---------------------------------------------------------
@pytest.fixture
def adapter(alipay, settings):
    """Alipay withdrawals paid by this adapter (registered as "alipay")."""
    settings.PAYOUT_ADAPTERS = {**settings.PAYOUT_ADAPTERS, "alipay": "alipay"}
    assert isinstance(payouts.gateway_for("alipay"), AlipayTransferGateway)
    return alipay


def withdraw(amount, account=WANG):
    distributor = make_distributor()
    earn(distributor, 100000)  # ¥100.00 settled
    asked = api_for(distributor.user).post(
        "/distribution/withdrawals", {"amount": amount, "method": "alipay", "account": account}
    )
    assert asked.status_code == 201, asked.content
    number = asked.json()["number"]
    approved = api_for(make_staff(perms=["distribution.change_withdrawal"])).post(
        f"/staff/distribution/withdrawals/{number}/approve"
    )
    assert approved.status_code == 200, approved.content
    return distributor, Withdrawal.objects.get(number=number)


@pytest.mark.django_db
def test_an_approved_withdrawal_is_paid_by_alipay(adapter):
    distributor, withdrawal = withdraw(2500)

    booked = adapter.transfers[withdrawal.number]
    assert (withdrawal.status, withdrawal.payout_reference) == ("paid", booked.order_id)
    assert booked.amount == withdrawal.payout
    assert ledger_sum(distributor) == 10000 - 2500


@pytest.mark.django_db
def test_a_withdrawal_to_a_wrong_real_name_fails_and_releases_the_hold(adapter):
    distributor, withdrawal = withdraw(2500, {"name": "王五", "account": "wrongname@example.com"})

    assert (withdrawal.status, withdrawal.failure_reason) == ("failed", "收款人姓名与支付宝实名不一致")
    assert ledger_sum(distributor) == 10000
    assert LedgerEntry.objects.filter(withdrawal=withdrawal, kind="withdrawal_release").exists()


@pytest.mark.django_db
def test_a_withdrawal_under_way_at_alipay_waits_and_is_asked_until_paid(adapter):
    adapter.transfer_status = "DEALING"
    _, withdrawal = withdraw(2500)
    assert (withdrawal.status, withdrawal.payout_status) == ("approved", "waiting")

    adapter.finish_transfer(withdrawal.number)
    payout_runs.check_payout(withdrawal.pk)

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_reference) == (
        "paid",
        adapter.transfers[withdrawal.number].order_id,
    )


@pytest.mark.django_db
def test_a_balance_short_at_alipay_keeps_the_withdrawal_pending_not_failed(adapter):
    adapter.transfer_error = "PAYER_BALANCE_NOT_ENOUGH"
    _, withdrawal = withdraw(2500)

    assert (withdrawal.status, withdrawal.payout_status) == ("approved", "pending")
    assert "PAYER_BALANCE_NOT_ENOUGH" in withdrawal.payout_last_error
    assert adapter.transfers == {}


def test_a_refusal_of_a_number_that_already_paid_reads_paid_never_failed(alipay):
    """Sent again after its answer was lost, a paid transfer's number may be refused: what
    stands under the number decides, so the hold is never released for money that left."""
    first = gateway().transfer(out_biz_no="W30", amount=2500, account=WANG)
    assert first.succeeded
    alipay.transfer_error = "SOME_NEW_REFUSAL"

    again = gateway().transfer(out_biz_no="W30", amount=2500, account=WANG)

    assert (again.succeeded, again.reference) == (True, first.reference)
    # A number Alipay never booked is refused as it says.
    refused = gateway().transfer(out_biz_no="W31", amount=2500, account=WANG)
    assert not refused.succeeded and not refused.waiting and "SOME_NEW_REFUSAL" in refused.failure_reason
