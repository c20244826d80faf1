"""WeChat Pay 商家转账 (the payout adapter) against the local WeChat Pay stand-in, which
checks the protocol: signed requests, the real name encrypted with the WeChat Pay public
key, the scene's report infos, idempotent bill numbers, signed and encrypted
notifications."""

import json
import time

import pytest

from fenxiao.distribution.payouts import wechatpay
from fenxiao.distribution.payouts.wechatpay import FAIL_REASONS, WechatTransferGateway
from fenxiao.payments.errors import (
    GatewayRefused,
    GatewayUnreachable,
    NotificationExpired,
    NotificationMalformed,
    SignatureInvalid,
)
from fenxiao.payments.tests import wechatpay_fake
from fenxiao.payments.tests.wechatpay_fake import FakeWechatPay
from fenxiao.payments.tests.wechatpay_transfer_fake import TRANSFER_PATH

OPENID = "o-MYE42l80oelYMDE34nYD456Xoy"
ACCOUNT = {"name": "张三", "openid": OPENID}
NUMBER = "W20261203103456123456"


@pytest.fixture
def notify_at(fake):
    """Where the transfer's outcome is notified (the distribution API's payout_notify)."""
    return wechatpay.notify_url("wechat")


@pytest.fixture
def gateway(notify_at):
    return WechatTransferGateway("wechat")


def transfer_calls(fake, method="POST"):
    return [r for r in fake.requests if r[0] == method and r[1].startswith(TRANSFER_PATH)]


def test_a_transfer_waits_for_the_distributor_to_confirm_then_reads_paid(fake, gateway, notify_at):
    result = gateway.transfer(out_biz_no=NUMBER, amount=12345, account=ACCOUNT)

    bill = fake.transfers[NUMBER]
    assert result.waiting and not result.succeeded
    assert result.reference == bill.transfer_bill_no and result.reference
    assert result.confirm_package == bill.package_info and result.confirm_package
    sent = bill.request
    assert sent["appid"] == wechatpay_fake.APPID
    assert sent["transfer_amount"] == 12345 and type(sent["transfer_amount"]) is int
    assert sent["transfer_scene_id"] == "1005"
    assert sent["openid"] == OPENID
    assert sent["transfer_remark"] == f"佣金提现 {NUMBER}"
    assert sent["notify_url"] == notify_at
    assert notify_at.startswith("https://shop.example.com/api/") and notify_at.endswith(
        "/payout-notify/wechat"
    )
    assert sent["user_recv_perception"] == "劳务报酬"
    assert sent["transfer_scene_report_infos"] == [
        {"info_type": "岗位类型", "info_content": "分销员"},
        {"info_type": "报酬说明", "info_content": "分销佣金提现"},
    ]

    # Not confirmed yet: still waiting (the query hands out no package).
    assert gateway.query(out_biz_no=NUMBER, amount=12345, account=ACCOUNT).waiting

    fake.confirm_transfer(NUMBER)
    paid = gateway.query(out_biz_no=NUMBER, amount=12345, account=ACCOUNT)
    assert paid.succeeded and not paid.waiting
    assert paid.reference == bill.transfer_bill_no


def test_the_real_name_travels_encrypted_with_the_wechat_pay_public_key(fake, gateway):
    gateway.transfer(out_biz_no=NUMBER, amount=5000, account=ACCOUNT)

    (_, _, body), *_ = transfer_calls(fake)
    assert "张三" not in body
    sent = json.loads(body)["user_name"]
    assert sent and sent != "张三"
    assert fake.transfers[NUMBER].user_name == "张三"  # as WeChat Pay decrypts it

    gateway.transfer(out_biz_no="W20261203103456000002", amount=5000, account={"openid": OPENID, "name": ""})
    assert "user_name" not in fake.transfers["W20261203103456000002"].request


def test_the_scene_perception_and_report_infos_come_from_the_settings(fake, gateway, settings):
    settings.WECHATPAY = {
        **settings.WECHATPAY,
        "TRANSFER_SCENE_ID": "1000",
        "TRANSFER_RECV_PERCEPTION": "",
        "TRANSFER_REPORT_INFOS": [{"info_type": "活动名称", "info_content": "分销奖励"}],
    }
    gateway = WechatTransferGateway("wechat")

    gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    sent = fake.transfers[NUMBER].request
    assert sent["transfer_scene_id"] == "1000"
    assert "user_recv_perception" not in sent
    assert sent["transfer_scene_report_infos"] == [{"info_type": "活动名称", "info_content": "分销奖励"}]


def test_the_remark_is_cut_to_32_characters(fake, gateway):
    number = "W" + "1" * 31
    gateway.transfer(out_biz_no=number, amount=100, account=ACCOUNT)

    remark = fake.transfers[number].request["transfer_remark"]
    assert len(remark) == 32 and remark.startswith("佣金提现 W111")


@pytest.mark.parametrize(
    ("first_state", "paid", "waiting"),
    [("ACCEPTED", False, True), ("SUCCESS", True, False)],
)
def test_a_bill_answered_accepted_or_success(fake, gateway, first_state, paid, waiting):
    fake.transfer_first_state = first_state

    result = gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    assert (result.succeeded, result.waiting) == (paid, waiting)
    assert result.confirm_package == ""
    assert result.reference == fake.transfers[NUMBER].transfer_bill_no


@pytest.mark.parametrize(
    "code",
    [
        "NAME_NOT_CORRECT",
        "ACCOUNT_FROZEN",
        "REAL_NAME_CHECK_FAIL",
        "DAY_RECEIVED_QUOTA_EXCEED",
        "TRANSFER_RISK",
    ],
)
def test_a_failed_transfer_is_refused_with_the_reason_in_chinese(fake, gateway, code):
    gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)
    fake.fail_transfer(NUMBER, code)

    result = gateway.query(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    assert not result.succeeded and not result.waiting
    assert result.failure_reason == FAIL_REASONS[code]
    assert result.reference == fake.transfers[NUMBER].transfer_bill_no


def test_every_listed_fail_reason_reads_in_chinese_and_an_unknown_one_keeps_its_code(fake, gateway):
    assert len(FAIL_REASONS) == 26
    assert all(
        reason and code not in reason and not reason.isascii() for code, reason in FAIL_REASONS.items()
    )
    gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)
    fake.fail_transfer(NUMBER, "SOMETHING_NEW")

    result = gateway.query(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    assert result.failure_reason == "微信转账失败（SOMETHING_NEW）"


def test_a_bill_cancelled_because_nobody_confirmed_it_is_refused(fake, gateway):
    gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)
    fake.cancel_transfer(NUMBER)

    result = gateway.query(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    assert not result.succeeded and not result.waiting
    assert result.failure_reason.startswith("转账已撤销")
    # Asking to transfer again with the same number answers with that bill, not a new one.
    again = gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)
    assert again.failure_reason.startswith("转账已撤销") and len(fake.transfers) == 1


def test_the_same_number_answers_the_same_bill_and_pays_once(fake, gateway):
    first = gateway.transfer(out_biz_no=NUMBER, amount=8800, account=ACCOUNT)
    second = gateway.transfer(out_biz_no=NUMBER, amount=8800, account=ACCOUNT)

    assert second == first
    assert len(fake.transfers) == 1 and len(transfer_calls(fake)) == 2


def test_a_number_taken_by_a_bill_that_no_longer_matches_answers_with_that_bill(fake, gateway):
    gateway.transfer(out_biz_no=NUMBER, amount=8800, account=ACCOUNT)

    # Re-sent with another real name: WeChat Pay refuses the request; the bill stands.
    result = gateway.transfer(out_biz_no=NUMBER, amount=8800, account={**ACCOUNT, "name": "李四"})

    assert result.waiting and result.reference == fake.transfers[NUMBER].transfer_bill_no
    assert len(fake.transfers) == 1 and fake.transfers[NUMBER].user_name == "张三"


def test_a_bill_for_another_sum_is_never_taken_as_the_outcome(fake, gateway):
    gateway.transfer(out_biz_no=NUMBER, amount=8800, account=ACCOUNT)
    fake.confirm_transfer(NUMBER)

    with pytest.raises(GatewayRefused, match="8800"):
        gateway.transfer(out_biz_no=NUMBER, amount=9900, account=ACCOUNT)
    with pytest.raises(GatewayRefused, match="8800"):
        gateway.query(out_biz_no=NUMBER, amount=9900, account=ACCOUNT)
    assert len(fake.transfers) == 1


def test_without_an_openid_nothing_is_asked(fake, gateway, settings):
    settings.WECHATPAY = {}  # not even configured: the refusal needs no call

    result = WechatTransferGateway("wechat").transfer(
        out_biz_no=NUMBER, amount=100, account={"name": "张三", "account": "zhangsan"}
    )

    assert not result.succeeded and not result.waiting
    assert result.failure_reason == "未绑定微信，无法转账到微信零钱"
    assert fake.requests == []


def test_an_amount_that_is_not_integer_fen_is_never_sent(fake, gateway):
    for amount in (12.5, "100", 0, True):
        with pytest.raises(ValueError, match="integer"):
            gateway.transfer(out_biz_no=NUMBER, amount=amount, account=ACCOUNT)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "SYSTEM_ERROR"), (403, "NOT_ENOUGH"), (429, "FREQUENCY_LIMITED"), (401, "SIGN_ERROR")],
)
def test_busy_or_short_of_money_is_no_answer_and_the_same_number_is_tried_again(fake, gateway, status, code):
    fake.refuse_transfer = (status, code)

    with pytest.raises(GatewayRefused, match=code):
        gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    assert fake.transfers == {}
    assert gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT).waiting
    assert len(fake.transfers) == 1


@pytest.mark.parametrize(
    ("status", "code", "label"), [(400, "PARAM_ERROR", "参数错误"), (403, "NO_AUTH", "权限")]
)
def test_a_request_refused_outright_is_a_refusal(fake, gateway, status, code, label):
    fake.refuse_transfer = (status, code)

    result = gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    assert not result.succeeded and not result.waiting
    assert code in result.failure_reason and label in result.failure_reason
    assert "转账请求被拒绝" in result.failure_reason  # WeChat Pay's own message
    assert fake.transfers == {}


def test_a_scene_without_its_report_infos_is_refused_with_wechats_message(fake, gateway, settings):
    settings.WECHATPAY = {**settings.WECHATPAY, "TRANSFER_REPORT_INFOS": []}

    result = WechatTransferGateway("wechat").transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    assert "PARAM_ERROR" in result.failure_reason and "报备" in result.failure_reason
    assert not result.waiting and fake.transfers == {}


def test_a_forged_answer_is_no_answer(fake, gateway):
    fake.forge_answers = True

    with pytest.raises(GatewayUnreachable):
        gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    fake.forge_answers = False  # asked again: the bill the lost answer was about
    result = gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)
    assert result.waiting and len(fake.transfers) == 1


def test_asking_about_a_bill_wechat_does_not_know_or_while_it_is_down_is_no_answer(fake, gateway):
    with pytest.raises(GatewayRefused, match="查无"):
        gateway.query(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)
    fake.refuse_transfer = (500, "SYSTEM_ERROR")
    with pytest.raises(GatewayRefused, match="SYSTEM_ERROR"):
        gateway.query(out_biz_no=NUMBER, amount=100, account=ACCOUNT)


def test_a_transfer_not_yet_confirmed_can_be_cancelled(fake, gateway):
    gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    result = gateway.cancel(NUMBER)

    assert not result.succeeded and not result.waiting
    assert result.failure_reason.startswith("转账已撤销")
    assert fake.transfers[NUMBER].state == "CANCELLED"
    assert [call[1] for call in transfer_calls(fake)][-1].endswith(f"/out-bill-no/{NUMBER}/cancel")


def test_a_cancel_still_under_way_waits_and_a_settled_bill_answers_with_its_outcome(fake, gateway):
    fake.cancel_answer = "CANCELING"
    gateway.transfer(out_biz_no=NUMBER, amount=100, account=ACCOUNT)

    assert gateway.cancel(NUMBER).waiting
    assert gateway.query(out_biz_no=NUMBER, amount=100, account=ACCOUNT).failure_reason.startswith(
        "转账已撤销"
    )

    gateway.transfer(out_biz_no="W20261203103456000002", amount=100, account=ACCOUNT)
    fake.confirm_transfer("W20261203103456000002")
    assert gateway.cancel("W20261203103456000002").succeeded  # too late: the distributor confirmed
    with pytest.raises(GatewayRefused, match="查无"):
        gateway.cancel("W20261203103456000003")


@pytest.mark.parametrize(
    ("settle", "paid", "reason"),
    [
        (FakeWechatPay.confirm_transfer, True, ""),
        (
            lambda fake, no: fake.fail_transfer(no, "NAME_NOT_CORRECT"),
            False,
            FAIL_REASONS["NAME_NOT_CORRECT"],
        ),
        (FakeWechatPay.cancel_transfer, False, wechatpay.CANCELLED),
    ],
)
def test_the_signed_notification_of_a_finished_bill_is_read(fake, gateway, settle, paid, reason):
    gateway.transfer(out_biz_no=NUMBER, amount=4321, account=ACCOUNT)
    settle(fake, NUMBER)
    body, headers = fake.transfer_notification(NUMBER)

    notice = gateway.parse_notification(headers, body)

    assert notice.out_biz_no == NUMBER and notice.amount == 4321
    assert notice.result.succeeded is paid and not notice.result.waiting
    assert notice.result.failure_reason == reason
    assert notice.result.reference == fake.transfers[NUMBER].transfer_bill_no


def read(gateway, sent):
    body, headers = sent
    return gateway.parse_notification(headers, body)


def test_a_notification_not_from_wechat_or_not_about_our_finished_bills_is_refused(fake, gateway):
    gateway.transfer(out_biz_no=NUMBER, amount=4321, account=ACCOUNT)
    fake.confirm_transfer(NUMBER)
    body, headers = fake.transfer_notification(NUMBER)
    assert read(gateway, (body, headers)).result.succeeded

    with pytest.raises(SignatureInvalid):  # tampered with after signing
        gateway.parse_notification(headers, body.replace(b"MCHTRANSFER", b"MCHTRANSFEX"))
    with pytest.raises(SignatureInvalid):  # unsigned
        gateway.parse_notification({}, body)
    with pytest.raises(SignatureInvalid):  # signed with another key
        read(gateway, fake.transfer_notification(NUMBER, key=wechatpay_fake.new_key()))
    with pytest.raises(NotificationExpired):  # an old one, replayed
        read(gateway, fake.transfer_notification(NUMBER, timestamp=int(time.time()) - 3600))
    with pytest.raises(SignatureInvalid):  # another merchant's transfer
        read(gateway, fake.transfer_notification(NUMBER, mch_id="1900000999"))
    with pytest.raises(NotificationMalformed):  # not a finished transfer
        read(gateway, fake.transfer_notification(NUMBER, event_type="TRANSACTION.SUCCESS"))

    fake.transfers[NUMBER].state = "WAIT_USER_CONFIRM"
    with pytest.raises(NotificationMalformed):  # "finished" in a state that is not
        read(gateway, fake.transfer_notification(NUMBER))


def test_every_refusal_reads_in_english():
    """A failed payout's reason is shown in the reader's language (Withdrawal.failure_reason_text):
    each refusal WeChat can give has its English, the two monthly limits included."""
    from django.utils import translation

    with translation.override("en"):
        untranslated = [text for text in FAIL_REASONS.values() if translation.gettext(text) == text]
    assert untranslated == []
