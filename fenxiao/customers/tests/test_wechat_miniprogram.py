"""Signing in from the merchant's WeChat mini-program: `wx.login`'s code for the openid,
the `getPhoneNumber` code for the account the first time, and the referral of the share
the user came by. Against the local WeChat stand-in (`payments.tests.wechatpay_fake`)."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from fenxiao.customers.models import User, WechatIdentity
from fenxiao.distribution.models import CustomerBinding
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.payments.tests.wechat_miniprogram_fake import MINI_APPID
from fenxiao.payments.tests.wechatpay_fake import FakeWechatPay
from fenxiao.testing import ApiClient, assert_refused, make_buyer, make_staff

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/wechat-miniprogram"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


@pytest.fixture(scope="module")
def wechat():
    server = FakeWechatPay().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def miniprogram(wechat, settings):
    wechat.reset_miniprogram()
    wechat.requests.clear()
    cache.clear()  # no mini-program token left from another test
    settings.WECHAT_MINIPROGRAM = wechat.miniprogram_settings()
    return wechat


def sign_in(body: dict, client: Client | None = None):
    return (client or Client()).post(URL, json.dumps(body), content_type="application/json")


def test_a_new_user_signs_in_with_their_wechat_phone_and_then_with_wx_login_alone(wechat):
    first = sign_in({"code": wechat.wx_login(OPENID)})
    assert_refused(first, 409, "PHONE_REQUIRED")
    assert not User.objects.filter(phone="13812345678").exists()

    created = sign_in({"code": wechat.wx_login(OPENID), "phone_code": wechat.wx_phone("13812345678")})
    assert created.status_code == 201, created.content
    body = created.json()
    user = User.objects.get(phone="13812345678")
    assert body["user"]["id"] == user.pk and "session_key" not in created.content.decode()
    assert not user.has_usable_password()
    assert WechatIdentity.objects.get(user=user, appid=MINI_APPID).openid == OPENID
    assert ApiClient(body["token"]).get("/me").json()["phone"] == "13812345678"

    again = sign_in({"code": wechat.wx_login(OPENID)})
    assert again.status_code == 200, again.content
    assert again.json()["user"]["id"] == user.pk
    assert ApiClient(again.json()["token"]).get("/me").status_code == 200
    # The mini-program's token came from stable_token under its own AppID, once.
    stable = [r for r in wechat.requests if r[1].startswith("/cgi-bin/stable_token")]
    assert len(stable) == 1 and MINI_APPID in stable[0][2]


def test_an_existing_phone_account_is_bound_not_duplicated(wechat):
    buyer = make_buyer("13900001111")
    reply = sign_in({"code": wechat.wx_login(OPENID), "phone_code": wechat.wx_phone("13900001111")})
    assert reply.status_code == 200, reply.content
    assert reply.json()["user"]["id"] == buyer.pk
    assert User.objects.filter(phone="13900001111").count() == 1
    buyer.refresh_from_db()
    assert buyer.check_password("Buyer#2026")  # their password is untouched
    assert WechatIdentity.objects.get(appid=MINI_APPID, openid=OPENID).user == buyer


def test_one_openid_per_account_under_the_mini_program(wechat):
    buyer = make_buyer("13900002222")
    sign_in({"code": wechat.wx_login("openid-old"), "phone_code": wechat.wx_phone("13900002222")})
    sign_in({"code": wechat.wx_login("openid-new"), "phone_code": wechat.wx_phone("13900002222")})
    assert list(WechatIdentity.objects.filter(appid=MINI_APPID).values_list("user", "openid")) == [
        (buyer.pk, "openid-new")
    ]


def test_staff_are_refused(wechat):
    staff = make_staff()
    staff.phone = "13900003333"
    staff.save()
    reply = sign_in({"code": wechat.wx_login(OPENID), "phone_code": wechat.wx_phone("13900003333")})
    assert_refused(reply, 403, "STAFF_SIGN_IN_REFUSED")
    assert not WechatIdentity.objects.exists()


def test_bad_codes_are_refused_with_400(wechat):
    assert_refused(sign_in({"code": "made-up"}), 400, "WECHAT_CODE_INVALID")
    used = wechat.wx_login(OPENID)
    sign_in({"code": used})
    assert_refused(sign_in({"code": used}), 400, "WECHAT_CODE_INVALID")
    bad_phone = sign_in({"code": wechat.wx_login(OPENID), "phone_code": "made-up"})
    assert_refused(bad_phone, 400, "WECHAT_CODE_INVALID")
    foreign = sign_in({"code": wechat.wx_login(OPENID), "phone_code": wechat.wx_phone("91234567", "852")})
    assert_refused(foreign, 400, "INVALID_PHONE")
    assert not User.objects.exists() and not WechatIdentity.objects.exists()
    assert sign_in({"code": ""}).status_code in (400, 422)  # schema validation, never a 500


def test_wechat_down_is_503_never_500(wechat, settings):
    settings.WECHAT_MINIPROGRAM = {**wechat.miniprogram_settings(), "API_BASE": "http://127.0.0.1:9"}
    assert_refused(sign_in({"code": "any"}), 503, "WECHAT_UNREACHABLE")


def test_a_wrong_secret_is_the_malls_problem_not_the_buyers(wechat, settings):
    settings.WECHAT_MINIPROGRAM = {**wechat.miniprogram_settings(), "SECRET": "wrong"}
    assert_refused(sign_in({"code": wechat.wx_login(OPENID)}), 503, "WECHAT_UNREACHABLE")


def test_not_configured_is_refused_not_an_outage(settings):
    settings.WECHAT_MINIPROGRAM = {}
    assert_refused(sign_in({"code": "any"}), 400, "WECHAT_MINIPROGRAM_NOT_CONFIGURED")


def test_a_stale_token_is_replaced_once(wechat):
    sign_in({"code": wechat.wx_login("someone"), "phone_code": wechat.wx_phone("13900004444")})
    wechat.mini_tokens.clear()  # another node's stable_token call replaced it
    reply = sign_in({"code": wechat.wx_login(OPENID), "phone_code": wechat.wx_phone("13900005555")})
    assert reply.status_code == 201, reply.content


def test_the_referral_of_the_share_binds_the_new_account(wechat):
    distributor = make_distributor()
    reply = sign_in(
        {
            "code": wechat.wx_login(OPENID),
            "phone_code": wechat.wx_phone("13900006666"),
            "ref": distributor.referral_code,
            "ref_source": "poster",
        }
    )
    assert reply.status_code == 201, reply.content
    binding = CustomerBinding.objects.get(buyer__phone="13900006666")
    assert binding.distributor == distributor and binding.source == "poster"
    # An unknown code is ignored, not an error.
    again = sign_in({"code": wechat.wx_login(OPENID), "ref": "NOPE"})
    assert again.status_code == 200


def test_failed_attempts_are_rate_limited_per_address(wechat, settings):
    settings.LOGIN_FAILURE_LIMIT = 1
    for _ in range(4):
        assert sign_in({"code": "made-up"}).status_code == 400
    assert_refused(sign_in({"code": wechat.wx_login(OPENID)}), 429, "LOGIN_RATE_LIMITED")


def test_a_phone_number_verified_for_another_app_is_refused(wechat):
    wechat.phone_watermark_appid = "wx-another-mini-program"
    reply = sign_in({"code": wechat.wx_login(OPENID), "phone_code": wechat.wx_phone("13900003333")})
    assert_refused(reply, 400, "WECHAT_CODE_INVALID")
    assert not User.objects.filter(phone="13900003333").exists()


@pytest.mark.parametrize("answer", [b'{"errcode": [40001]}', b'{"openid": "' + b"o" * 80 + b'"}', b"[]"])
def test_a_garbled_answer_from_wechat_is_an_outage_never_a_500(wechat, monkeypatch, answer):
    import io
    from email.message import Message
    from urllib.response import addinfourl

    from fenxiao.customers.services import wechat_mp

    def urlopen(*args, **kwargs):  # what urllib hands back, with WeChat's JSON type
        headers = Message()
        headers["Content-Type"] = "application/json; encoding=utf-8"
        return addinfourl(io.BytesIO(answer), headers, "https://api.weixin.qq.com/")

    monkeypatch.setattr(wechat_mp.urllib.request, "urlopen", urlopen)
    assert_refused(sign_in({"code": "LOGIN-x"}), 503, "WECHAT_UNREACHABLE")
