"""Tencent Cloud SMS: the TC3 signature against Tencent's published example, and
registration codes sent as approved positional templates to a local stand-in of SendSms
that recomputes every signature and answers number by number."""

import string
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.utils import timezone

from fenxiao.customers.models import SmsMessage, User
from fenxiao.customers.services import sms_codes
from fenxiao.customers.sms import SmsSendFailed, get_sms_gateway, tencent
from fenxiao.testing import ApiClient, make_buyer

from .tencent_sms_fake import FakeTencentSms, tc3_signature

pytestmark = pytest.mark.django_db

SECRET_ID, SECRET_KEY, APP_ID = "AKIDFenxiaoTestSecretId", "fenxiao-test-secret-key", "1400000001"
TEMPLATES = {
    "register_code": "1460001",
    "already_registered": "1460002",
    "reset_code": "1460003",
    "not_registered": "1460004",
}
# How many variables each approved template has: the stand-in refuses any other count.
VARIABLES = {"1460001": 2, "1460002": 0, "1460003": 2, "1460004": 0}

# The worked example of Tencent Cloud's "签名方法 v3" documentation (CVM DescribeInstances,
# 2019-02-25), with its published hashes and signature. The published key is masked with
# asterisks, and the published signature is the one of that masked key.
EXAMPLE = {
    "secret_id": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
    "secret_key": "Gu5t9xGARNpq86cd98joQYCN3*******",
    "host": "cvm.tencentcloudapi.com",
    "payload": b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
    "timestamp": 1551113065,
    "service": "cvm",
}
EXAMPLE_SIGNATURE = "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"


def test_the_signature_is_tencents_own_example():
    assert tencent.authorization(**EXAMPLE) == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={EXAMPLE_SIGNATURE}"
    )
    # The stand-in's own check, written from the same documentation, agrees: a refusal in
    # the tests below is the adapter's fault, not the stand-in's.
    assert (
        tc3_signature(
            EXAMPLE["secret_key"],
            method="POST",
            path="/",
            query="",
            headers={"Content-Type": tencent.CONTENT_TYPE, "Host": EXAMPLE["host"]},
            signed_headers=["content-type", "host"],
            payload=EXAMPLE["payload"],
            timestamp=EXAMPLE["timestamp"],
            date="2019-02-25",
            service="cvm",
        )
        == EXAMPLE_SIGNATURE
    )


@pytest.fixture(scope="module")
def sms():
    fake = FakeTencentSms(SECRET_ID, SECRET_KEY, APP_ID, templates=VARIABLES)
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def tencent_sms(settings, sms):
    sms.reset()
    settings.SMS_GATEWAY = "tencent"
    settings.SMS_TENCENT = {
        "SECRET_ID": SECRET_ID,
        "SECRET_KEY": SECRET_KEY,
        "SDK_APP_ID": APP_ID,
        "SIGN_NAME": "分销商城",
        "TEMPLATES": dict(TEMPLATES),
        "REGION": "ap-guangzhou",
        "ENDPOINT": sms.endpoint,
    }
    return sms


def ask_code(phone, purpose="register"):
    return ApiClient().post("/auth/sms-code", {"phone": phone, "purpose": purpose})


def test_a_registration_code_goes_out_as_the_approved_template_and_registers(sms):
    assert ask_code("13900000131").status_code == 202

    [sent] = sms.sent
    message = SmsMessage.objects.get(phone="13900000131")
    assert (sent["PhoneNumberSet"], sent["SmsSdkAppId"], sent["SignName"], sent["TemplateId"]) == (
        ["+8613900000131"],
        APP_ID,
        "分销商城",
        "1460001",
    )
    # Positional: {1} the code, {2} its minutes, as the mall's own wording has them.
    code, minutes = sent["TemplateParamSet"]
    assert len(code) == 6 and code.isdigit() and minutes == "10"
    assert sent["SessionContext"] == str(message.pk)
    [headers] = sms.headers
    assert (headers["x-tc-action"], headers["x-tc-version"], headers["x-tc-region"]) == (
        "SendSms",
        "2021-01-11",
        "ap-guangzhou",
    )
    assert message.status == SmsMessage.Status.SENT and code in message.text
    reply = ApiClient().post(
        "/auth/register", {"phone": "13900000131", "password": "Secret#2026", "code": code}
    )
    assert reply.status_code == 201, reply.content
    assert User.objects.filter(phone="13900000131").exists()


def test_each_message_has_its_own_template_with_its_parameters_in_order(sms):
    make_buyer("13900000132")
    make_buyer("13900000133")
    assert ask_code("13900000132").status_code == 202  # already registered
    assert ask_code("13900000134", "reset_password").status_code == 202  # no account
    assert ask_code("13900000133", "reset_password").status_code == 202

    sent = [(m["PhoneNumberSet"][0], m["TemplateId"], m["TemplateParamSet"]) for m in sms.sent]
    assert sent[0] == ("+8613900000132", "1460002", [])
    assert sent[1] == ("+8613900000134", "1460004", [])
    assert sent[2][:2] == ("+8613900000133", "1460003")
    message = SmsMessage.objects.get(phone="13900000133")
    assert sent[2][2] == [message.params["code"], message.params["minutes"]]


def test_the_positions_follow_the_wording_of_each_message():
    # A Tencent template is approved with the mall's wording: its {1}, {2} … must be the
    # parameters in the order that wording uses them.
    for template, text in sms_codes.TEXTS.items():
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name]
        assert tuple(names) == tuple(n for n in tencent.PARAM_ORDER if n in names), template
        assert set(names) <= set(tencent.PARAM_ORDER), template


def test_a_wrong_secret_is_refused_by_the_signature_check_and_retried(settings):
    settings.SMS_TENCENT = {**settings.SMS_TENCENT, "SECRET_KEY": "not-the-secret"}
    assert ask_code("13900000135").status_code == 202
    message = SmsMessage.objects.get(phone="13900000135")
    assert message.status == SmsMessage.Status.PENDING
    assert "AuthFailure.SignatureFailure" in message.last_error


def test_an_unreachable_gateway_is_retried_not_lost(settings):
    settings.SMS_TENCENT = {**settings.SMS_TENCENT, "ENDPOINT": "http://127.0.0.1:9"}
    assert ask_code("13900000136").status_code == 202
    message = SmsMessage.objects.get(phone="13900000136")
    assert message.status == SmsMessage.Status.PENDING and "无法连接" in message.last_error


@pytest.mark.parametrize(
    "code", ["InternalError.Timeout", "RequestLimitExceeded", "FailedOperation.TemplateIncorrectOrUnapproved"]
)
def test_a_refused_request_stays_in_the_outbox_and_the_sweeper_sends_it(sms, code):
    sms.error = {"Code": code, "Message": "请稍后重试"}
    assert ask_code("13900000137").status_code == 202

    message = SmsMessage.objects.get(phone="13900000137")
    assert message.status == SmsMessage.Status.PENDING and code in message.last_error

    sms.error = None
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert sms_codes.sweep() == 1
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT and len(sms.sent) == 1


def test_a_number_over_its_daily_limit_is_tried_again(sms):
    sms.statuses["+8613900000138"] = (
        "LimitExceeded.PhoneNumberDailyLimit",
        "单个手机号日下发短信条数超过设定的上限",
    )
    assert ask_code("13900000138").status_code == 202
    message = SmsMessage.objects.get(phone="13900000138")
    assert message.status == SmsMessage.Status.PENDING
    assert "LimitExceeded.PhoneNumberDailyLimit" in message.last_error and not sms.sent


@pytest.mark.parametrize(
    ("code", "whole_request"),
    [
        ("InvalidParameterValue.IncorrectPhoneNumber", False),
        ("FailedOperation.PhoneNumberInBlacklist", False),
        ("UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", True),
        ("InvalidParameterValue.IncorrectPhoneNumber", True),
    ],
)
def test_a_number_tencent_cannot_text_is_given_up_at_once(sms, code, whole_request):
    if whole_request:
        sms.error = {"Code": code, "Message": "无法发送"}
    else:
        sms.statuses["+8613900000139"] = (code, "无法发送")
    assert ask_code("13900000139").status_code == 202
    message = SmsMessage.objects.get(phone="13900000139")
    assert message.status == SmsMessage.Status.FAILED and message.attempts == 1
    assert code in message.last_error


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"<html>502 Bad Gateway</html>", "无法解析"),
        (b'{"Response": {"RequestId": "r-1"}}', "未返回发送状态"),
        (b'{"Response": {"SendStatusSet": [], "RequestId": "r-2"}}', "未返回发送状态"),
        (b'{"Response": {"SendStatusSet": 5, "RequestId": "r-3"}}', "未返回发送状态"),
        (b'{"Response": {"Error": {"Code": ["x"], "Message": "?"}}}', "拒绝发送"),
    ],
)
def test_an_answer_without_a_status_is_retried(raw, reason):
    with pytest.raises(SmsSendFailed, match=reason) as refused:
        tencent._check(raw, "+8613900000140")
    assert not refused.value.permanent


def test_an_endpoint_written_in_capitals_is_signed_as_tencent_reads_it(settings, sms):
    settings.SMS_TENCENT = {
        **settings.SMS_TENCENT,
        "ENDPOINT": sms.endpoint.replace("127.0.0.1", "LOCALHOST"),
    }
    tencent.send_template(
        settings.SMS_TENCENT,
        phone="13900000141",
        template_id=TEMPLATES["register_code"],
        params=["1", "2"],
        reference="r",
    )
    assert sms.sent[-1]["PhoneNumberSet"] == ["+8613900000141"]


def test_the_gateway_is_tencent_when_configured():
    assert get_sms_gateway().label == "腾讯云短信"
    with pytest.raises(SmsSendFailed, match="未配置短信模板"):
        tencent.TencentSmsGateway({**tencent.config(), "TEMPLATES": {}}).send(
            phone="13900000141", text="", template="register_code", params={"code": "1"}, reference="1"
        )


def test_the_system_check_names_what_is_missing(settings):
    assert [m for m in run_checks() if m.id == "fenxiao.E012"] == []
    settings.SMS_TENCENT = {
        **settings.SMS_TENCENT,
        "SDK_APP_ID": "",
        "TEMPLATES": {**TEMPLATES, "reset_code": ""},
    }
    found = [(m.msg, m.hint) for m in run_checks() if m.id == "fenxiao.E012"]
    assert found == [
        ("SMS_TENCENT_SDK_APP_ID is not set", "See SMS_TENCENT in settings.py."),
        (
            "SMS_TENCENT_TEMPLATE_RESET_CODE (the template id of “重置密码验证码”) is not set",
            "See SMS_TENCENT in settings.py.",
        ),
    ]
    assert tencent.problems(with_templates=False) == ["SMS_TENCENT_SDK_APP_ID is not set"]


def test_the_backend_keeps_the_outbox_in_reach():
    from fenxiao.backend_nav import unfold_settings

    nav = unfold_settings(payment_gateways=[], sms_gateway="tencent")["SIDEBAR"]["navigation"]
    titles = [
        str(item["title"]) for group in nav for item in group["items"] if "smsmessage" in str(item["link"])
    ]
    assert titles == ["短信发送记录"]
