"""Aliyun SMS: the signature against Aliyun's published example, and registration codes sent
as approved templates to a local stand-in of dysmsapi that checks every signature."""

import json
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.utils import timezone

from fenxiao.customers.models import SmsMessage, User
from fenxiao.customers.services import sms_codes
from fenxiao.customers.sms import aliyun
from fenxiao.testing import ApiClient, make_buyer

from .dysms_fake import FakeDysms

pytestmark = pytest.mark.django_db

KEY_ID, SECRET = "LTAI5tFenxiaoTestKey", "fenxiao-test-secret"
TEMPLATES = {
    "register_code": "SMS_460001",
    "already_registered": "SMS_460002",
    "reset_code": "SMS_460003",
    "not_registered": "SMS_460004",
}


def test_the_signature_is_aliyuns_own_example():
    # The worked example of Aliyun's SMS API documentation (签名机制), with its published result.
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun.signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


@pytest.fixture(scope="module")
def dysms():
    fake = FakeDysms(KEY_ID, SECRET)
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def aliyun_sms(settings, dysms):
    dysms.sent.clear()
    dysms.refuse = None
    settings.SMS_GATEWAY = "aliyun"
    settings.SMS_ALIYUN = {
        "ACCESS_KEY_ID": KEY_ID,
        "ACCESS_KEY_SECRET": SECRET,
        "SIGN_NAME": "分销商城",
        "TEMPLATES": dict(TEMPLATES),
        "ENDPOINT": dysms.endpoint,
    }
    return dysms


def ask_code(phone, purpose="register"):
    return ApiClient().post("/auth/sms-code", {"phone": phone, "purpose": purpose})


def test_a_registration_code_goes_out_as_the_approved_template_and_registers(dysms):
    assert ask_code("13900000031").status_code == 202

    [sent] = dysms.sent
    message = SmsMessage.objects.get(phone="13900000031")
    assert (sent["PhoneNumbers"], sent["SignName"], sent["TemplateCode"]) == (
        "13900000031",
        "分销商城",
        "SMS_460001",
    )
    params = json.loads(sent["TemplateParam"])
    # Aliyun allows one variable in a 验证码 template: the code (its 10 minutes are in the text).
    assert list(params) == ["code"] and len(params["code"]) == 6
    assert sent["OutId"] == str(message.pk)
    assert message.status == SmsMessage.Status.SENT and params["code"] in message.text
    # The page does not show a real gateway's messages: the code is only on the phone.
    reply = ApiClient().post(
        "/auth/register", {"phone": "13900000031", "password": "Secret#2026", "code": params["code"]}
    )
    assert reply.status_code == 201, reply.content
    assert User.objects.filter(phone="13900000031").exists()


def test_each_message_has_its_own_template(dysms):
    make_buyer("13900000032")
    make_buyer("13900000037")
    assert ask_code("13900000032").status_code == 202  # already registered
    assert ask_code("13900000033", "reset_password").status_code == 202  # no account
    assert ask_code("13900000037", "reset_password").status_code == 202

    sent = [(m["PhoneNumbers"], m["TemplateCode"], json.loads(m["TemplateParam"])) for m in dysms.sent]
    assert sent[0] == ("13900000032", "SMS_460002", {})
    assert sent[1] == ("13900000033", "SMS_460004", {})
    assert sent[2][:2] == ("13900000037", "SMS_460003") and set(sent[2][2]) == {"code"}


def test_a_refused_message_stays_in_the_outbox_and_the_sweeper_sends_it(dysms):
    dysms.refuse = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"}
    assert ask_code("13900000034").status_code == 202

    message = SmsMessage.objects.get(phone="13900000034")
    assert message.status == SmsMessage.Status.PENDING
    assert "isv.BUSINESS_LIMIT_CONTROL" in message.last_error

    dysms.refuse = None
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert sms_codes.sweep() == 1
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT and len(dysms.sent) == 1


def test_a_wrong_secret_or_an_unreachable_gateway_is_retried_not_lost(settings):
    settings.SMS_ALIYUN = {**settings.SMS_ALIYUN, "ACCESS_KEY_SECRET": "not-the-secret"}
    assert ask_code("13900000035").status_code == 202
    assert "SignatureDoesNotMatch" in SmsMessage.objects.get(phone="13900000035").last_error

    settings.SMS_ALIYUN = {**settings.SMS_ALIYUN, "ENDPOINT": "http://127.0.0.1:9/"}
    assert ask_code("13900000036").status_code == 202
    message = SmsMessage.objects.get(phone="13900000036")
    assert message.status == SmsMessage.Status.PENDING and "无法连接" in message.last_error


def test_the_system_check_names_what_is_missing(settings):
    assert [m for m in run_checks() if m.id == "fenxiao.E012"] == []
    settings.SMS_ALIYUN = {
        **settings.SMS_ALIYUN,
        "SIGN_NAME": "",
        "TEMPLATES": {**TEMPLATES, "reset_code": ""},
    }
    found = [m.msg for m in run_checks() if m.id == "fenxiao.E012"]
    assert found == [
        "SMS_ALIYUN_SIGN_NAME is not set",
        "SMS_ALIYUN_TEMPLATE_RESET_CODE (the template code of “重置密码验证码”) is not set",
    ]


@pytest.mark.parametrize(
    ("gateway", "title"), [("aliyun", "短信发送记录"), ("sandbox", "沙箱短信"), ("", None)]
)
def test_the_backend_keeps_the_outbox_in_reach_with_a_real_gateway(gateway, title):
    from fenxiao.backend_nav import unfold_settings

    nav = unfold_settings(payment_gateways=[], sms_gateway=gateway)["SIDEBAR"]["navigation"]
    titles = [
        str(item["title"]) for group in nav for item in group["items"] if "smsmessage" in str(item["link"])
    ]
    assert titles == ([title] if title else [])


def test_a_number_aliyun_cannot_text_is_given_up_at_once(dysms):
    dysms.refuse = {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
    assert ask_code("13900000038").status_code == 202
    message = SmsMessage.objects.get(phone="13900000038")
    assert message.status == SmsMessage.Status.FAILED and message.attempts == 1
    assert "isv.MOBILE_NUMBER_ILLEGAL" in message.last_error
