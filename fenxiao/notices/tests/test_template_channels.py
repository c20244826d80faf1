"""Notices through real providers that send only approved templates: WeChat template
messages (公众号) to buyers with a 微信身份, and Aliyun SMS, each against a local stand-in
that checks what it is sent."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.checks import run_checks
from django.utils import timezone

from fenxiao.customers.models import WechatIdentity
from fenxiao.customers.tests.dysms_fake import FakeDysms
from fenxiao.notices.models import Delivery, DeliveryStatus
from fenxiao.notices.services import delivery, inbox
from fenxiao.payments.tests import wechatpay_fake
from fenxiao.payments.tests.wechatpay_fake import FakeWechatPay
from fenxiao.testing import make_buyer

from .helpers import deliveries_of

pytestmark = pytest.mark.django_db

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
TEMPLATES = {
    "wechat": {
        "order_shipped": {
            "template": "TPL-SHIPPED",
            "fields": {"thing1": "title", "thing2": "body", "time3": "time", "phrase4": "kind"},
        }
    },
    "sms": {"order_shipped": {"template": "SMS_470001", "fields": {"title": "title", "body": "body"}}},
}
LONG_BODY = "您购买的【春季新款纯棉T恤 白色 XL】已由顺丰速运发出，运单号 SF1234567890，请留意查收。"


@pytest.fixture(scope="module")
def wechat():
    server = FakeWechatPay().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dysms():
    server = FakeDysms("LTAI5tNoticeKey", "notice-secret")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def providers(settings, wechat, dysms, tmp_path):
    wechat.tokens.clear()
    wechat.template_messages.clear()
    dysms.sent.clear()
    cache.clear()
    settings.WECHATPAY = wechat.settings(Path(tmp_path))
    settings.WECHAT_MP = wechat.mp_settings()
    settings.SITE_URL = "https://shop.example.com"
    settings.SMS_ALIYUN = {
        **settings.SMS_ALIYUN,
        "ACCESS_KEY_ID": "LTAI5tNoticeKey",
        "ACCESS_KEY_SECRET": "notice-secret",
        "SIGN_NAME": "分销商城",
        "ENDPOINT": dysms.endpoint,
    }
    settings.NOTICE_CHANNEL_ADAPTERS = {"wechat": "mp", "sms": "aliyun"}
    settings.NOTICE_TEMPLATES = TEMPLATES


def buyer_with_openid(phone=None):
    buyer = make_buyer(phone)
    WechatIdentity.objects.create(user=buyer, appid=wechatpay_fake.APPID, openid=OPENID)
    return buyer


def shipped(buyer, key="1"):
    inbox.notify(buyer, "order_shipped", "订单已发货", LONG_BODY, "/orders/X1/", source_key=f"shipped:{key}")


def test_a_shipped_order_reaches_wechat_as_the_approved_template(wechat):
    buyer = buyer_with_openid()

    shipped(buyer)

    [sent] = wechat.template_messages
    assert (sent["touser"], sent["template_id"]) == (OPENID, "TPL-SHIPPED")
    assert sent["url"] == "https://shop.example.com/orders/X1/"
    data = {field: value["value"] for field, value in sent["data"].items()}
    assert data["thing1"] == "订单已发货"
    # Fields are cut to what WeChat takes (thing: 20 characters), not refused.
    assert len(data["thing2"]) == 20 and data["thing2"].endswith("…")
    assert data["phrase4"] == "订单发货"
    now = timezone.localtime(timezone.now(), timezone.get_fixed_timezone(480))
    assert data["time3"][:10] == now.strftime("%Y-%m-%d")
    row = Delivery.objects.get(channel="wechat")
    assert row.status == DeliveryStatus.SENT and row.recipient == OPENID and "TPL-SHIPPED" in row.content
    assert sent["client_msg_id"] == f"notice-{row.pk}"

    # The access token is kept for the next notice.
    shipped(buyer, key="2")
    assert len(wechat.template_messages) == 2 and len(wechat.tokens) == 1


def test_the_same_notice_reaches_the_phone_as_an_sms_template(dysms):
    buyer = buyer_with_openid("13900000051")

    shipped(buyer)

    [sent] = dysms.sent
    assert (sent["PhoneNumbers"], sent["TemplateCode"], sent["SignName"]) == (
        "13900000051",
        "SMS_470001",
        "分销商城",
    )
    params = json.loads(sent["TemplateParam"])
    assert params["title"] == "订单已发货" and len(params["body"]) == 35
    assert Delivery.objects.get(channel="sms").status == DeliveryStatus.SENT


def test_a_kind_without_a_template_stays_in_the_site(wechat, dysms):
    buyer = buyer_with_openid()
    inbox.notify(buyer, "refund_done", "退款已到账", "¥10.00 已退回", source_key="refund:1")
    assert deliveries_of(buyer) == []
    assert not wechat.template_messages and not dysms.sent


def test_a_buyer_without_an_openid_gets_no_wechat_message(wechat):
    buyer = make_buyer()
    shipped(buyer)
    row = Delivery.objects.get(channel="wechat")
    assert row.status == DeliveryStatus.FAILED and row.last_error == "该用户在此渠道没有接收地址"
    assert not wechat.template_messages


def test_a_stale_access_token_is_dropped_and_the_sweeper_sends_again(wechat):
    buyer = buyer_with_openid()
    shipped(buyer)
    wechat.tokens.clear()  # WeChat no longer takes the token the mall holds

    shipped(buyer, key="2")
    row = Delivery.objects.filter(channel="wechat").order_by("-pk").first()
    assert row.status == DeliveryStatus.PENDING and "40001" in row.last_error

    delivery.sweep(timezone.now() + timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(wechat.template_messages) == 2


def test_a_buyer_who_unfollowed_or_cannot_be_texted_is_given_up_at_once(wechat, dysms):
    buyer = buyer_with_openid("13900000052")
    wechat.unfollowed.add(OPENID)
    dysms.refuse = {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
    try:
        shipped(buyer)
    finally:
        wechat.unfollowed.clear()
        dysms.refuse = None
    by_channel = {row.channel: row for row in Delivery.objects.all()}
    assert by_channel["wechat"].status == DeliveryStatus.FAILED and "43004" in by_channel["wechat"].last_error
    assert (
        by_channel["sms"].status == DeliveryStatus.FAILED
        and "MOBILE_NUMBER_ILLEGAL" in by_channel["sms"].last_error
    )
    assert {row.attempts for row in by_channel.values()} == {1}
    # Nothing is left for the sweeper to try again.
    assert delivery.sweep(timezone.now() + timedelta(hours=2)) == 0


def test_the_system_check_names_bad_templates(settings):
    assert [m for m in run_checks() if m.id == "fenxiao.E013"] == []
    settings.NOTICE_TEMPLATES = {
        "wechat": {"order_shiped": {"template": "X", "fields": {}}},
        "sms": {"order_shipped": {"template": "SMS_1", "fields": {"x": "price"}}},
    }
    found = [m.msg for m in run_checks() if m.id == "fenxiao.E013"]
    assert len(found) == 2
    assert "order_shiped" in found[0] and "'price'" in found[1]
    settings.WECHAT_MP = {**settings.WECHAT_MP, "SECRET": ""}
    assert any("WECHAT_MP_SECRET" in m.msg for m in run_checks() if m.id == "fenxiao.E013")
