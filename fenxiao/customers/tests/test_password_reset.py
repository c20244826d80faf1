"""A forgotten password set again with an SMS code (API and H5), a password changed while
signed in, and the nickname: one answer for known and unknown numbers, every old token
signed out, the login lockout lifted."""

import pytest
from django.test import Client

from fenxiao.customers.models import ApiToken, SmsCode, SmsMessage
from fenxiao.customers.services import accounts
from fenxiao.testing import ApiClient, assert_refused, last_sms_code, make_buyer, make_staff

pytestmark = pytest.mark.django_db

OLD, NEW_PASSWORD = "Buyer#2026", "Fresh#Pass2027"
PHONE, UNKNOWN = "13800000031", "13800000032"


def ask_code(phone):
    return ApiClient().post("/auth/sms-code", {"phone": phone, "purpose": "reset_password"})


def reset(phone, code, password=NEW_PASSWORD):
    return ApiClient().post("/auth/password-reset", {"phone": phone, "code": code, "password": password})


def login(phone, password):
    return ApiClient().post("/auth/login", {"phone": phone, "password": password})


def test_a_buyer_sets_a_new_password_with_a_texted_code_and_old_tokens_stop_working():
    make_buyer(PHONE, password=OLD)
    old_token = login(PHONE, OLD).json()["token"]

    assert ask_code(PHONE).status_code == 202
    done = reset(PHONE, last_sms_code(PHONE))

    assert done.status_code == 200, done.content
    assert ApiClient(done.json()["token"]).get("/me").status_code == 200  # signed in
    assert ApiClient(old_token).get("/me").status_code == 401
    assert login(PHONE, OLD).status_code == 401
    assert login(PHONE, NEW_PASSWORD).status_code == 200
    assert not SmsCode.objects.exists()  # the code is used up
    assert_refused(reset(PHONE, "123456"), 400, "SMS_CODE_INVALID")


def test_asking_answers_the_same_for_a_number_without_an_account_which_gets_no_code():
    make_buyer(PHONE, password=OLD)
    make_staff("clerk").__class__.objects.filter(username="clerk").update(phone=UNKNOWN)

    assert ask_code(PHONE).json() == ask_code(UNKNOWN).json()
    text = SmsMessage.objects.get(phone=UNKNOWN).text
    assert "尚未注册" in text and not any(ch.isdigit() for ch in text)
    assert list(SmsCode.objects.values_list("phone", flat=True)) == [PHONE]
    assert_refused(reset(UNKNOWN, "000000"), 400, "SMS_CODE_INVALID")


def test_a_weak_password_or_a_wrong_code_changes_nothing():
    make_buyer(PHONE, password=OLD)
    ask_code(PHONE)
    code = last_sms_code(PHONE)

    assert_refused(reset(PHONE, code, password="12345678"), 400, "WEAK_PASSWORD")
    wrong = "000000" if code != "000000" else "111111"
    assert_refused(reset(PHONE, wrong), 400, "SMS_CODE_INVALID")
    assert login(PHONE, OLD).status_code == 200
    assert reset(PHONE, code).status_code == 200  # one wrong try does not burn the code


def test_a_reset_lifts_the_login_lockout_of_the_number(settings):
    make_buyer(PHONE, password=OLD)
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        login(PHONE, "not-my-password")
    assert_refused(login(PHONE, OLD), 429, "LOGIN_RATE_LIMITED")

    ask_code(PHONE)
    assert reset(PHONE, last_sms_code(PHONE)).status_code == 200
    assert login(PHONE, NEW_PASSWORD).status_code == 200


def test_a_signed_in_buyer_changes_the_password_and_the_nickname():
    make_buyer(PHONE, password=OLD)
    first, other = login(PHONE, OLD).json()["token"], login(PHONE, OLD).json()["token"]
    api = ApiClient(first)

    assert_refused(
        api.post("/me/password", {"old_password": "wrong", "password": NEW_PASSWORD}), 400, "WRONG_PASSWORD"
    )
    changed = api.post("/me/password", {"old_password": OLD, "password": NEW_PASSWORD})
    assert changed.status_code == 200
    assert ApiClient(other).get("/me").status_code == 401  # the other device signs in again
    fresh = ApiClient(changed.json()["token"])
    assert fresh.patch("/me", {"nickname": "  小王  "}).json()["nickname"] == "小王"
    assert fresh.get("/me").json()["display_name"] == "小王"
    assert ApiToken.objects.count() == 1


def test_the_h5_pages_reset_the_password_and_keep_this_browser_signed_in_on_a_change():
    buyer = make_buyer(PHONE, password=OLD)
    browser = Client()
    assert "忘记密码" in browser.get("/login/").content.decode()

    sent = browser.post("/password-reset/", {"action": "send_code", "phone": PHONE}, HTTP_HX_REQUEST="true")
    assert "验证码已发送" in sent.content.decode()
    code = last_sms_code(PHONE)
    mismatch = browser.post(
        "/password-reset/", {"phone": PHONE, "code": code, "password": NEW_PASSWORD, "password2": "x"}
    )
    assert "两次输入的密码不一致" in mismatch.content.decode()
    done = browser.post(
        "/password-reset/",
        {"phone": PHONE, "code": code, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.status_code == 302 and done["Location"] == "/me/"
    assert browser.get("/me/").status_code == 200  # signed in by the reset

    settings_page = browser.get("/me/settings/")
    assert settings_page.status_code == 200 and PHONE in settings_page.content.decode()
    browser.post("/me/settings/", {"action": "profile", "nickname": "王小二"})
    buyer.refresh_from_db()
    assert buyer.nickname == "王小二"
    elsewhere = Client()
    elsewhere.force_login(buyer)
    changed = browser.post(
        "/me/settings/",
        {"action": "password", "old_password": NEW_PASSWORD, "password": OLD + "x", "password2": OLD + "x"},
    )
    assert changed.status_code == 302
    assert browser.get("/me/").status_code == 200  # still signed in here
    assert elsewhere.get("/me/").status_code == 302  # the other session ended
    assert accounts.login_with_phone(phone=PHONE, password=OLD + "x") == buyer


def test_staff_cannot_reset_through_the_buyer_flow():
    staff = make_staff("ops")
    staff.__class__.objects.filter(pk=staff.pk).update(username=PHONE, phone=PHONE)
    ask_code(PHONE)
    assert not SmsCode.objects.exists()
    assert "尚未注册" in SmsMessage.objects.get(phone=PHONE).text


def test_guessing_the_old_password_is_limited_like_a_login(settings):
    make_buyer(PHONE, password=OLD)
    api = ApiClient(login(PHONE, OLD).json()["token"])
    answers = [
        api.post("/me/password", {"old_password": f"guess{i}xx", "password": NEW_PASSWORD}).status_code
        for i in range(settings.LOGIN_FAILURE_LIMIT + 1)
    ]
    assert answers[:-1] == [400] * settings.LOGIN_FAILURE_LIMIT
    assert_refused(
        api.post("/me/password", {"old_password": OLD, "password": NEW_PASSWORD}), 429, "LOGIN_RATE_LIMITED"
    )
    assert login(PHONE, NEW_PASSWORD).status_code != 200  # nothing changed


def test_a_reset_that_signs_a_visitor_in_claims_the_referral_they_came_by():
    from fenxiao.distribution.models import CustomerBinding
    from fenxiao.distribution.tests.helpers import make_distributor

    distributor = make_distributor()
    make_buyer(PHONE, password=OLD)
    browser = Client()
    browser.get(f"/r/{distributor.referral_code}", {"to": "/"})
    assert ask_code(PHONE).status_code == 202
    done = browser.post(
        "/api/v1/auth/password-reset",
        {"phone": PHONE, "code": last_sms_code(PHONE), "password": NEW_PASSWORD},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert CustomerBinding.objects.get(buyer__phone=PHONE).distributor == distributor
