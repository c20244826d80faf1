"""A withdrawal to 微信零钱 from end to end with the real 商家转账 adapter against the local
WeChat Pay stand-in: the distributor asks in WeChat's browser (the mall learns their openid
silently), finance approves, the transfer waits for the distributor's 确认收款, and WeChat
Pay's notification settles it."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from fenxiao.distribution.models import Withdrawal
from fenxiao.distribution.services import payouts as payout_runs
from fenxiao.notices.models import Message
from fenxiao.payments.tests import wechatpay_fake
from fenxiao.payments.tests.wechatpay_transfer_fake import TRANSFER_PATH
from fenxiao.testing import api_for, login, make_staff

from .helpers import earn, ledger_sum, make_distributor

pytestmark = pytest.mark.django_db

IN_WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"
)
OPENID = "o-distributor-0001"


@pytest.fixture(autouse=True)
def mall(fake, settings):
    """WeChat withdrawals paid by 商家转账, in WeChat's browser on the mall's own address."""
    settings.ALLOWED_HOSTS = ["shop.example.com", "testserver"]
    settings.PAYOUT_ADAPTERS = {"wechat": "wechatpay", "alipay": "sandbox"}


@pytest.fixture
def rich():
    distributor = make_distributor()
    earn(distributor, 100000)  # ¥100.00 settled
    return distributor


def in_wechat(user) -> Client:
    web = Client(HTTP_USER_AGENT=IN_WECHAT, HTTP_HOST="shop.example.com", **{"wsgi.url_scheme": "https"})
    web.force_login(user)
    return web


def authorise(fake, web, location: str):
    """What WeChat does with the silent authorisation: back to the mall with a code."""
    query = parse_qs(urlsplit(location).query)
    assert query["scope"] == ["snsapi_base"] and query["appid"] == [wechatpay_fake.APPID]
    fake.oauth_codes["CODE-1"] = OPENID
    return web.get("/wechat/auth/return/", {"code": "CODE-1", "state": query["state"][0]}, secure=True)


def test_a_withdrawal_to_wechat_balance_from_request_to_receipt(fake, rich):
    web = in_wechat(rich.user)

    # The page first learns who holds this WeChat, silently, then comes back.
    first = web.get("/d/withdraw/", secure=True)
    assert first.status_code == 302 and first["Location"].startswith("https://open.weixin.qq.com/")
    assert authorise(fake, web, first["Location"])["Location"] == "/d/withdraw/"
    form = web.get("/d/withdraw/", secure=True).content.decode()
    assert 'data-testid="wechat-payout-hint"' in form

    # No account number to type: the name, and the openid this browser holds.
    asked = web.post("/d/withdraw/", {"amount": "25", "method": "wechat", "name": "王五"}, secure=True)
    assert asked.status_code == 302, asked.content.decode()[:500]
    withdrawal = Withdrawal.objects.get(distributor=rich)
    assert withdrawal.account == {"name": "王五", "openid": OPENID}
    assert ledger_sum(rich) == 7500

    finance = api_for(make_staff(perms=["distribution.change_withdrawal"]))
    approved = finance.post(f"/staff/distribution/withdrawals/{withdrawal.number}/approve")
    assert approved.status_code == 200, approved.content

    bill = fake.transfers[withdrawal.number]
    assert (bill.amount, bill.openid) == (2500, OPENID)
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status) == ("approved", "waiting")
    assert withdrawal.payout_package == bill.package_info
    assert Message.objects.filter(user=rich.user, kind="withdrawal_to_confirm").count() == 1

    # The page offers 确认收款 with WeChat's package, and what the JS-SDK needs to open it.
    page = web.get("/d/withdraw/", secure=True).content.decode()
    assert f'data-transfer-package="{bill.package_info}"' in page
    sdk = json.loads(re.search(r'<script id="wx-transfer" type="application/json">(.*?)</script>', page)[1])
    assert sdk["mchId"] == wechatpay_fake.MCHID and sdk["config"]["appId"] == wechatpay_fake.APPID
    assert sdk["config"]["signature"]

    # The distributor confirms in WeChat; WeChat Pay's notification arrives first.
    fake.confirm_transfer(withdrawal.number)
    body, headers = fake.transfer_notification(withdrawal.number)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    told = Client().post(
        "/api/v1/distribution/payout-notify/wechat", body, content_type="application/json", **extra
    )
    assert (told.status_code, told.json()["outcome"]) == (200, "recorded")
    # The page's own confirmation, a moment later, finds it settled.
    confirmed = web.post(f"/d/withdraw/{withdrawal.number}/confirmed", secure=True)
    assert confirmed.status_code == 302

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status, withdrawal.payout_package) == (
        "paid",
        "succeeded",
        "",
    )
    assert withdrawal.payout_reference == bill.transfer_bill_no
    assert ledger_sum(rich) == 7500
    assert Message.objects.filter(user=rich.user, kind="withdrawal_paid").count() == 1
    page = web.get("/d/withdraw/", secure=True).content.decode()
    assert "data-transfer-package" not in page and "wx-transfer" not in page


def test_a_name_wechat_refuses_fails_the_withdrawal_and_returns_the_money(fake, rich):
    web = in_wechat(rich.user)
    authorise(fake, web, web.get("/d/withdraw/", secure=True)["Location"])
    web.post("/d/withdraw/", {"amount": "25", "method": "wechat", "name": "李四"}, secure=True)
    withdrawal = Withdrawal.objects.get(distributor=rich)
    api_for(make_staff(perms=["distribution.change_withdrawal"])).post(
        f"/staff/distribution/withdrawals/{withdrawal.number}/approve"
    )

    fake.fail_transfer(withdrawal.number, "NAME_NOT_CORRECT")
    payout_runs.check_payout(withdrawal.pk)

    withdrawal.refresh_from_db()
    assert withdrawal.status == "failed" and "姓名" in withdrawal.failure_reason
    assert ledger_sum(rich) == 10000
    assert "姓名" in Message.objects.get(user=rich.user, kind="withdrawal_failed").body


def test_outside_wechat_the_api_pays_the_openid_bound_to_the_account_or_says_how_to_bind(fake, rich):
    from fenxiao.customers.models import WechatIdentity

    client = api_for(rich.user)
    unbound = client.post(
        "/distribution/withdrawals", {"amount": 2500, "method": "wechat", "account": {"name": "王五"}}
    )
    assert (unbound.status_code, unbound.json()["code"]) == (409, "WECHAT_NOT_BOUND")
    assert ledger_sum(rich) == 10000

    WechatIdentity.objects.create(user=rich.user, appid=wechatpay_fake.APPID, openid=OPENID)
    bound = client.post(
        "/distribution/withdrawals", {"amount": 2500, "method": "wechat", "account": {"name": "王五"}}
    )
    assert bound.status_code == 201, bound.content
    assert Withdrawal.objects.get(number=bound.json()["number"]).account == {"name": "王五", "openid": OPENID}


def test_the_system_check_names_what_a_real_payout_adapter_lacks(settings):
    from fenxiao.distribution.checks import payout_adapters_configured

    settings.PAYOUT_ADAPTERS = {"wechat": "wechatpay", "alipay": "alipay"}
    settings.WECHATPAY = {"MCHID": ""}
    settings.WECHAT_MP = {"SECRET": ""}
    settings.ALIPAY = {"APP_ID": "2021", "PRIVATE_KEY_FILE": "", "PUBLIC_KEY_FILE": ""}
    messages = [error.msg for error in payout_adapters_configured(None)]
    assert any("WECHATPAY_MCHID" in m for m in messages)
    assert any("WECHAT_MP_SECRET" in m for m in messages)
    assert any("ALIPAY_PRIVATE_KEY_FILE" in m for m in messages)
    assert any("公钥证书" in m for m in messages)
    settings.PAYOUT_ADAPTERS = {"wechat": "", "alipay": "sandbox"}
    assert payout_adapters_configured(None) == []


def approved_in_wechat(fake, rich) -> Withdrawal:
    web = in_wechat(rich.user)
    authorise(fake, web, web.get("/d/withdraw/", secure=True)["Location"])
    web.post("/d/withdraw/", {"amount": "25", "method": "wechat", "name": "王五"}, secure=True)
    withdrawal = Withdrawal.objects.get(distributor=rich)
    api_for(make_staff(perms=["distribution.change_withdrawal"])).post(
        f"/staff/distribution/withdrawals/{withdrawal.number}/approve"
    )
    withdrawal.refresh_from_db()
    assert withdrawal.payout_status == "waiting"
    return withdrawal


def test_while_wechat_holds_the_transfer_finance_cannot_also_pay_it_by_hand_but_can_cancel_it(fake, rich):
    withdrawal = approved_in_wechat(fake, rich)
    finance = api_for(make_staff(perms=["distribution.change_withdrawal"]))

    by_hand = finance.post(f"/staff/distribution/withdrawals/{withdrawal.number}/paid", {"reference": "x"})
    assert (by_hand.status_code, by_hand.json()["code"]) == (409, "PAYOUT_IN_FLIGHT")

    payout_runs.cancel_payout(withdrawal, make_staff())

    withdrawal.refresh_from_db()
    assert fake.transfers[withdrawal.number].state == "CANCELLED"
    assert (withdrawal.status, withdrawal.payout_status, withdrawal.payout_package) == (
        "failed",
        "failed",
        "",
    )
    assert ledger_sum(rich) == 10000
    with pytest.raises(Exception) as refused:
        payout_runs.cancel_payout(withdrawal, make_staff())
    assert refused.value.code == "PAYOUT_NOT_CANCELLABLE"


def test_asking_about_a_transfer_still_unconfirmed_keeps_its_package_and_taps_do_not_flood_wechat(fake, rich):
    withdrawal = approved_in_wechat(fake, rich)
    package = withdrawal.payout_package

    payout_runs.check_payout(withdrawal.pk)

    withdrawal.refresh_from_db()
    assert (withdrawal.payout_status, withdrawal.payout_package) == ("waiting", package)
    assert len(fake.transfers) == 1  # sent again under the same number: still one bill
    fake.requests.clear()
    client = api_for(rich.user)
    for _ in range(5):
        assert client.post(f"/distribution/withdrawals/{withdrawal.number}/confirmed").status_code == 200
    lookups = [r for r in fake.requests if r[0] == "GET" and TRANSFER_PATH in r[1]]
    assert len(lookups) == 1


def test_a_waiting_transfer_whose_adapter_was_removed_is_left_to_finance_to_record(fake, rich, settings):
    withdrawal = approved_in_wechat(fake, rich)
    settings.PAYOUT_ADAPTERS = {"wechat": "", "alipay": ""}
    finance = api_for(make_staff(perms=["distribution.change_withdrawal"]))

    payout_runs.execute_payout(withdrawal.pk)  # the sweeper's next look
    withdrawal.refresh_from_db()
    assert withdrawal.payout_status == "waiting" and "已停用" in withdrawal.payout_last_error
    # It may have gone through: not failed by hand, but recorded paid once finance has seen it.
    failed = finance.post(f"/staff/distribution/withdrawals/{withdrawal.number}/failed", {"reason": "x"})
    assert (failed.status_code, failed.json()["code"]) == (409, "PAYOUT_IN_FLIGHT")
    # The backend offers what the service accepts.
    boss = login(make_staff(perms=["distribution.view_withdrawal", "distribution.change_withdrawal"]))
    page = boss.get(reverse("admin:distribution_withdrawal_change", args=[withdrawal.pk])).content.decode()
    assert reverse("admin:distribution_withdrawal_mark_paid", args=[withdrawal.pk]) in page
    assert reverse("admin:distribution_withdrawal_mark_failed", args=[withdrawal.pk]) not in page
    paid = finance.post(f"/staff/distribution/withdrawals/{withdrawal.number}/paid", {"reference": "seen"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


def test_the_backend_offers_cancel_not_paid_or_failed_by_hand_for_a_waiting_transfer(fake, rich):
    withdrawal = approved_in_wechat(fake, rich)
    boss = login(make_staff(perms=["distribution.view_withdrawal", "distribution.change_withdrawal"]))
    page = boss.get(reverse("admin:distribution_withdrawal_change", args=[withdrawal.pk])).content.decode()
    assert "撤销转账" in page and "待分销商在微信中确认收款" in page
    assert reverse("admin:distribution_withdrawal_mark_paid", args=[withdrawal.pk]) not in page
    assert reverse("admin:distribution_withdrawal_mark_failed", args=[withdrawal.pk]) not in page

    cancelled = boss.post(
        reverse("admin:distribution_withdrawal_cancel_payout", args=[withdrawal.pk]), {"_confirm": "1"}
    )

    assert cancelled.status_code == 302
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status) == ("failed", "failed")
    assert ledger_sum(rich) == 10000
