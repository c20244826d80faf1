"""Login and registration limits as an attacker meets them, login CSRF, staff tokens."""

import json

import pytest
from django.test import Client

from fenxiao.customers.models import ApiToken, RateCounter, User
from fenxiao.testing import ApiClient, assert_refused, make_buyer, make_staff, sms_code_for

pytestmark = pytest.mark.django_db

PASSWORD = "Secret#2026"


def login(phone, password=PASSWORD, client=None):
    return (client or ApiClient()).post("/auth/login", {"phone": phone, "password": password})


# --- per address: the attacker's own successful login does not wipe the count ---------------


def test_own_successful_login_does_not_reset_the_address_count():
    make_buyer("13800000011", password=PASSWORD)  # the attacker's own account
    make_buyer("13800000012", password=PASSWORD)  # someone else's
    for i in range(19):
        assert_refused(login(f"1370000{i:04d}", "Wrong#2026"), 401, "LOGIN_FAILED")
    assert login("13800000011").status_code == 200
    assert_refused(login("13700009999", "Wrong#2026"), 401, "LOGIN_FAILED")
    # Twenty failures from this address: no more checks, even with the right password.
    assert_refused(login("13800000012"), 429, "LOGIN_RATE_LIMITED")


def test_refused_attempts_count_too_so_the_lock_cannot_be_waited_out_by_hammering():
    make_buyer("13800000013", password=PASSWORD)
    for _ in range(5):
        assert_refused(login("13800000013", "Wrong#2026"), 401, "LOGIN_FAILED")
    for _ in range(3):
        assert_refused(login("13800000013", "Wrong#2026"), 429, "LOGIN_RATE_LIMITED")
    assert_refused(login("13800000013"), 429, "LOGIN_RATE_LIMITED")


# --- the backend login -------------------------------------------------------------------


def test_backend_login_is_limited_like_the_others():
    staff = make_staff("ops")
    client = Client()
    for _ in range(5):
        reply = client.post("/backend/login/", {"username": staff.username, "password": "Wrong#2026"})
        assert reply.status_code == 200
        assert "_auth_user_id" not in client.session
    reply = client.post(
        "/backend/login/?next=/backend/", {"username": staff.username, "password": "Staff#2026"}
    )
    assert reply.status_code == 200  # the form again, not the redirect into the backend
    assert "登录失败次数过多" in reply.content.decode()
    assert "_auth_user_id" not in client.session


def test_backend_login_still_works_within_the_limit():
    staff = make_staff("ops")
    client = Client()
    reply = client.post(
        "/backend/login/?next=/backend/", {"username": staff.username, "password": "Staff#2026"}
    )
    assert reply.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


# --- registration --------------------------------------------------------------------------


def register(phone, client=None, code=None):
    body = {"phone": phone, "password": PASSWORD, "code": code or sms_code_for(phone)}
    return (client or ApiClient()).post("/auth/register", body)


def test_registration_is_limited_per_address(settings):
    assert settings.REGISTER_LIMIT_PER_ADDRESS == 10
    for i in range(10):
        assert register(f"1350000{i:04d}").status_code == 201
    code = sms_code_for("13500009999")
    assert_refused(register("13500009999", code=code), 429, "REGISTER_RATE_LIMITED")
    assert not User.objects.filter(phone="13500009999").exists()
    other = ApiClient()
    other.client.defaults["REMOTE_ADDR"] = "10.9.8.7"
    assert register("13500009999", client=other, code=code).status_code == 201


def test_h5_registration_is_limited_per_address(settings):
    settings.REGISTER_LIMIT_PER_ADDRESS = 1
    data = {"phone": "13500000001", "password": PASSWORD, "password2": PASSWORD}
    assert Client().post("/register/", {**data, "code": sms_code_for("13500000001")}).status_code == 302
    code = sms_code_for("13500000002")
    reply = Client().post("/register/", {**data, "phone": "13500000002", "code": code})
    assert "注册尝试过于频繁" in reply.content.decode()
    assert not User.objects.filter(phone="13500000002").exists()


# --- login CSRF ----------------------------------------------------------------------------

BODY = json.dumps({"phone": "13800000031", "password": PASSWORD})


def test_text_plain_login_from_a_foreign_origin_sets_no_session():
    make_buyer("13800000031", password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    reply = client.post(
        "/api/v1/auth/login?session=true", BODY, content_type="text/plain", HTTP_ORIGIN="https://evil.example"
    )
    assert_refused(reply, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "sessionid" not in reply.cookies
    assert not ApiToken.objects.exists()


def test_json_session_login_from_a_foreign_origin_is_refused():
    make_buyer("13800000031", password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    reply = client.post(
        "/api/v1/auth/login?session=true",
        BODY,
        content_type="application/json",
        HTTP_ORIGIN="https://evil.example",
    )
    assert_refused(reply, 403, "CSRF_FAILED")
    assert "sessionid" not in reply.cookies
    assert not ApiToken.objects.exists()


def test_session_login_from_our_own_page_with_the_token_works():
    make_buyer("13800000031", password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    reply = client.post(
        "/api/v1/auth/login?session=true",
        BODY,
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
        HTTP_X_CSRFTOKEN=token,
    )
    assert reply.status_code == 200, reply.content
    assert "sessionid" in reply.cookies


def test_token_login_without_session_needs_no_csrf_token():
    make_buyer("13800000031", password=PASSWORD)
    reply = Client(enforce_csrf_checks=True).post("/api/v1/auth/login", BODY, content_type="application/json")
    assert reply.status_code == 200
    assert "sessionid" not in reply.cookies


# --- staff tokens --------------------------------------------------------------------------


def test_staff_get_an_api_token_with_their_username():
    staff = make_staff("finance")
    reply = ApiClient().post("/auth/login", {"username": staff.username, "password": "Staff#2026"})
    assert reply.status_code == 200, reply.content
    assert ApiClient(reply.json()["token"]).get("/me").json()["id"] == staff.pk
    assert_refused(
        ApiClient().post("/auth/login", {"username": staff.username, "password": "Wrong#2026"}),
        401,
        "LOGIN_FAILED",
    )


def test_login_needs_exactly_one_of_phone_or_username():
    assert_refused(ApiClient().post("/auth/login", {"password": PASSWORD}), 400, "INVALID_INPUT")
    assert_refused(
        ApiClient().post("/auth/login", {"phone": "13800000001", "username": "x", "password": PASSWORD}),
        400,
        "INVALID_INPUT",
    )


def test_a_staff_token_from_a_username_login_works_on_staff_endpoints():
    staff = make_staff("finance", perms=["distribution.add_settlementbatch"])
    token = (
        ApiClient()
        .post("/auth/login", {"username": staff.username, "password": "Staff#2026"})
        .json()["token"]
    )
    assert ApiClient(token).post("/staff/distribution/settlements/batches").status_code == 200
    buyer = make_buyer("13800000051", password=PASSWORD)
    buyer_token = login(buyer.phone).json()["token"]
    assert_refused(
        ApiClient(buyer_token).post("/staff/distribution/settlements/batches"), 403, "PERMISSION_DENIED"
    )


def test_an_address_over_its_limit_writes_no_more_counters():
    for i in range(20):
        assert_refused(login(f"1370000{i:04d}", "Wrong#2026"), 401, "LOGIN_FAILED")
    rows = RateCounter.objects.count()
    for i in range(20, 40):
        assert_refused(login(f"1370000{i:04d}", "Wrong#2026"), 429, "LOGIN_RATE_LIMITED")
    assert RateCounter.objects.count() == rows
