"""Notices by Tencent Cloud SMS: a kind with an approved template reaches the phone with its
positional parameters, against a local stand-in of SendSms that checks every signature."""

from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.utils import timezone

from fenxiao.customers.tests.tencent_sms_fake import FakeTencentSms
from fenxiao.notices.models import Delivery, DeliveryStatus
from fenxiao.notices.services import delivery, inbox
from fenxiao.testing import make_buyer

from .helpers import deliveries_of

pytestmark = pytest.mark.django_db

SECRET_ID, SECRET_KEY, APP_ID = "AKIDNoticeSecretId", "notice-secret-key", "1400000002"
TEMPLATE = "1470001"
TEMPLATES = {"sms": {"order_shipped": {"template": TEMPLATE, "fields": {"1": "title", "2": "body"}}}}
LONG_BODY = "您购买的【春季新款纯棉T恤 白色 XL】已由顺丰速运发出，运单号 SF1234567890，请留意查收。"


@pytest.fixture(scope="module")
def sms():
    server = FakeTencentSms(SECRET_ID, SECRET_KEY, APP_ID, templates={TEMPLATE: 2})
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def provider(settings, sms):
    sms.reset()
    settings.SMS_TENCENT = {
        **settings.SMS_TENCENT,
        "SECRET_ID": SECRET_ID,
        "SECRET_KEY": SECRET_KEY,
        "SDK_APP_ID": APP_ID,
        "SIGN_NAME": "分销商城",
        "ENDPOINT": sms.endpoint,
        "VARIABLE_LIMIT": 12,
    }
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "tencent", "wechat": ""}
    settings.NOTICE_TEMPLATES = TEMPLATES


def shipped(buyer, key="1"):
    inbox.notify(buyer, "order_shipped", "订单已发货", LONG_BODY, "/orders/X1/", source_key=f"shipped:{key}")


def test_a_shipped_order_reaches_the_phone_with_its_positional_parameters(sms):
    buyer = make_buyer("13900000151")

    shipped(buyer)

    [sent] = sms.sent
    assert (sent["PhoneNumberSet"], sent["TemplateId"], sent["SignName"], sent["SmsSdkAppId"]) == (
        ["+8613900000151"],
        TEMPLATE,
        "分销商城",
        APP_ID,
    )
    # {1} the title, {2} the body, each cut to what the account may send (12 characters).
    title, body = sent["TemplateParamSet"]
    assert title == "订单已发货" and body == LONG_BODY[:11] + "…"
    row = Delivery.objects.get(channel="sms")
    assert row.status == DeliveryStatus.SENT and row.recipient == "13900000151"
    assert row.content == f"[{TEMPLATE}] {{1}}：订单已发货；{{2}}：{body}"
    assert sent["SessionContext"] == f"notice-{row.pk}"


def test_an_enterprise_account_sends_the_whole_text(settings, sms):
    settings.SMS_TENCENT = {**settings.SMS_TENCENT, "VARIABLE_LIMIT": 0}
    shipped(make_buyer("13900000152"))
    [sent] = sms.sent
    assert sent["TemplateParamSet"] == ["订单已发货", LONG_BODY]


def test_a_kind_without_a_template_is_not_sent_by_sms(sms):
    buyer = make_buyer("13900000153")
    inbox.notify(buyer, "refund_done", "退款已到账", "¥10.00 已退回", source_key="refund:1")
    assert deliveries_of(buyer) == []
    assert not sms.sent


def test_a_number_tencent_cannot_text_is_given_up_at_once(sms):
    sms.statuses["+8613900000154"] = ("FailedOperation.PhoneNumberInBlacklist", "手机号在免打扰名单库中")
    shipped(make_buyer("13900000154"))
    row = Delivery.objects.get(channel="sms")
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert "PhoneNumberInBlacklist" in row.last_error
    assert delivery.sweep(timezone.now() + timedelta(hours=2)) == 0


def test_a_passing_refusal_is_sent_again_by_the_sweeper(sms):
    sms.error = {"Code": "InternalError.Timeout", "Message": "请求下发短信超时"}
    shipped(make_buyer("13900000155"))
    row = Delivery.objects.get(channel="sms")
    assert row.status == DeliveryStatus.PENDING and "InternalError.Timeout" in row.last_error

    sms.error = None
    delivery.sweep(timezone.now() + timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(sms.sent) == 1


def test_the_system_check_wants_positional_fields_and_the_account(settings):
    assert [m for m in run_checks() if m.id == "fenxiao.E013"] == []
    settings.NOTICE_TEMPLATES = {
        "sms": {
            "order_shipped": {"template": "1", "fields": {"title": "title", "body": "body"}},
            "refund_done": {"template": "2", "fields": {"1": "title", "3": "body"}},
            "withdrawal_paid": {"template": "3", "fields": {"2": "body", "1": "title"}},
        }
    }
    settings.SMS_TENCENT = {**settings.SMS_TENCENT, "SECRET_ID": ""}
    found = [m.msg for m in run_checks() if m.id == "fenxiao.E013"]
    assert found[0] == "SMS_TENCENT_SECRET_ID is not set"
    assert len(found) == 3
    assert "'order_shipped'" in found[1] and "by position" in found[1]
    assert "'refund_done'" in found[2]


def test_fields_are_sent_by_their_number_whatever_order_they_are_written_in(settings, sms):
    settings.NOTICE_TEMPLATES = {
        "sms": {"order_shipped": {"template": TEMPLATE, "fields": {"2": "kind", "1": "title"}}}
    }
    shipped(make_buyer("13900000156"))
    [sent] = sms.sent
    assert sent["TemplateParamSet"] == ["订单已发货", "订单发货"]
