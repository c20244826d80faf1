"""Accounts through the API: register, login (rate-limited), tokens, the address book."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from fenxiao.customers.errors import InvalidPhone
from fenxiao.customers.models import Address, ApiToken, User
from fenxiao.customers.services.accounts import drop_idle_tokens, normalise_phone
from fenxiao.testing import ApiClient, api_for, assert_refused, make_address, make_buyer, sms_code_for

pytestmark = pytest.mark.django_db

PASSWORD = "Secret#2026"


@pytest.fixture(autouse=True)
def _no_failure_counters():
    # Login failure counters live in the shared cache; with Redis they would outlive a test.
    cache.clear()
    yield
    cache.clear()


def register(phone="13912345678", password=PASSWORD, **extra):
    """Registers as a client does: a code by SMS first (unless the test gives one)."""
    if "code" not in extra:
        try:
            normalise_phone(phone)
        except InvalidPhone:
            extra["code"] = "000000"  # a number the mall cannot text; refused before the code
        else:
            extra["code"] = sms_code_for(phone)
    return ApiClient().post("/auth/register", {"phone": phone, "password": password, **extra})


def login(phone, password=PASSWORD, client=None):
    return (client or ApiClient()).post("/auth/login", {"phone": phone, "password": password})


# --- register / login / logout / me ------------------------------------------------------------


def test_register_then_me_with_the_token():
    reply = register("+86 139-1234-5678", nickname=" 小王 ")
    assert reply.status_code == 201, reply.content
    body = reply.json()
    assert body["user"]["phone"] == "13912345678"  # normalised
    assert body["user"]["nickname"] == "小王"
    me = ApiClient(body["token"]).get("/me")
    assert me.status_code == 200
    assert me.json() == {
        "id": body["user"]["id"],
        "phone": "13912345678",
        "nickname": "小王",
        "display_name": "小王",
        "accepts_marketing": True,
    }
    user = User.objects.get(phone="13912345678")
    assert user.check_password(PASSWORD)
    assert user.password != PASSWORD


def test_display_name_masks_the_phone_without_a_nickname():
    token = register("13912345678").json()["token"]
    assert ApiClient(token).get("/me").json()["display_name"] == "139****5678"


def test_register_twice_with_one_phone_is_refused():
    assert register("13912345678").status_code == 201
    # A registered number is texted no code, so any code gets the wrong-code refusal.
    assert_refused(register("139 1234 5678", code="123456"), 400, "SMS_CODE_INVALID")
    assert User.objects.filter(phone="13912345678").count() == 1


def test_login_returns_a_working_token_and_wrong_password_is_refused():
    make_buyer("13800000001", password=PASSWORD)
    assert_refused(login("13800000001", "Wrong#2026"), 401, "LOGIN_FAILED")
    assert_refused(login("13800000009"), 401, "LOGIN_FAILED")  # unknown phone: same answer
    reply = login("13800000001")
    assert reply.status_code == 200, reply.content
    assert reply.json()["user"]["phone"] == "13800000001"
    assert ApiClient(reply.json()["token"]).get("/me").status_code == 200


def test_inactive_user_cannot_log_in():
    make_buyer("13800000002", password=PASSWORD, is_active=False)
    assert_refused(login("13800000002"), 401, "LOGIN_FAILED")


def test_login_with_session_signs_in_the_h5_session():
    make_buyer("13800000003", password=PASSWORD)
    client = ApiClient()
    reply = client.client.post(
        "/api/v1/auth/login?session=true",
        {"phone": "13800000003", "password": PASSWORD},
        content_type="application/json",
    )
    assert reply.status_code == 200
    # No bearer token: the session cookie alone authenticates.
    assert client.get("/me").json()["phone"] == "13800000003"


def test_logout_revokes_the_token():
    make_buyer("13800000004", password=PASSWORD)
    first = ApiClient(login("13800000004").json()["token"])
    second = ApiClient(login("13800000004").json()["token"])
    assert ApiToken.objects.count() == 2
    reply = first.post("/auth/logout")
    assert reply.status_code == 204
    assert_refused(first.get("/me"), 401, "UNAUTHORIZED")
    assert_refused(first.post("/auth/logout"), 401, "UNAUTHORIZED")
    assert second.get("/me").status_code == 200  # other devices stay signed in
    assert ApiToken.objects.count() == 1


def test_made_up_token_is_unauthorised():
    assert_refused(ApiClient("not-a-token").get("/me"), 401, "UNAUTHORIZED")
    assert_refused(ApiClient().get("/me"), 401, "UNAUTHORIZED")


# --- login rate limit ------------------------------------------------------------------------


def test_five_failures_lock_the_phone_even_for_the_right_password(settings):
    assert settings.LOGIN_FAILURE_LIMIT == 5
    make_buyer("13800000005", password=PASSWORD)
    for _ in range(5):
        assert_refused(login("13800000005", "Wrong#2026"), 401, "LOGIN_FAILED")
    assert_refused(login("13800000005"), 429, "LOGIN_RATE_LIMITED")
    assert_refused(login("138 0000 0005"), 429, "LOGIN_RATE_LIMITED")  # same phone, other spelling
    # Another buyer's phone is not locked by this one's failures.
    make_buyer("13800000006", password=PASSWORD)
    assert login("13800000006").status_code == 200


def test_a_successful_login_resets_the_failure_counter():
    make_buyer("13800000007", password=PASSWORD)
    for _ in range(4):
        assert_refused(login("13800000007", "Wrong#2026"), 401, "LOGIN_FAILED")
    assert login("13800000007").status_code == 200
    for _ in range(4):
        assert_refused(login("13800000007", "Wrong#2026"), 401, "LOGIN_FAILED")
    # Eight failures in all, but never five in a row: still allowed in.
    assert login("13800000007").status_code == 200


def test_many_failures_from_one_address_lock_that_address():
    make_buyer("13800000008", password=PASSWORD)
    for i in range(20):
        assert_refused(login(f"1370000{i:04d}", "Wrong#2026"), 401, "LOGIN_FAILED")
    assert_refused(login("13800000008"), 429, "LOGIN_RATE_LIMITED")
    other_address = ApiClient()
    other_address.client.defaults["REMOTE_ADDR"] = "10.1.2.3"
    assert login("13800000008", client=other_address).status_code == 200


# --- bad registrations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "1381234567",
        "138123456789",
        "23812345678",
        "12812345678",
        "abcdefghijk",
        "+1 4155552671",
        "",
        "138-0013-800O",
        "13８１２３４５６７８9",
        "١٣٨١٢٣٤٥٦٧٨",  # other scripts' digits are no phone number a Chinese keyboard types
    ],
)
def test_register_refuses_malformed_phones(phone):
    assert_refused(register(phone), 400, "INVALID_PHONE")
    assert User.objects.count() == 0


def test_a_phone_typed_on_a_full_width_keyboard_is_its_ascii_number():
    # A Chinese IME in full-width mode types １３８, ＋ and －, and a wide space.
    assert normalise_phone("１３９－１２３４　５６７８") == "13912345678"
    assert normalise_phone("＋８６ 13912345678") == "13912345678"
    code = sms_code_for("13912345678")
    reply = register("１３９１２３４５６７８", code=code)
    assert reply.status_code == 201, reply.content
    assert User.objects.get().phone == "13912345678"
    assert login("１３９ １２３４ ５６７８").status_code == 200


@pytest.mark.parametrize("password", ["short1!", "password", "12345678901", "qwerty123"])
def test_register_refuses_weak_passwords(password):
    assert_refused(register("13912345678", password), 400, "WEAK_PASSWORD")
    assert User.objects.count() == 0


def test_register_refuses_missing_and_unexpected_fields():
    assert_refused(ApiClient().post("/auth/register", {"phone": "13912345678"}), 422, "INVALID_INPUT")
    assert_refused(register("13912345678", is_staff=True), 422, "INVALID_INPUT")
    assert_refused(register("1" * 21), 422, "INVALID_INPUT")
    assert User.objects.count() == 0


# --- addresses ---------------------------------------------------------------------------------

ADDRESS = {
    "recipient": "李四",
    "phone": "13700001111",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "detail": "科技园 1 号",
}


def test_address_crud_and_default_handling():
    buyer = make_buyer()
    client = api_for(buyer)
    first = client.post("/addresses", ADDRESS)
    assert first.status_code == 201, first.content
    first = first.json()
    assert first["is_default"] is True  # the first address is the default whatever was sent
    assert first["full_text"] == "广东省深圳市南山区科技园 1 号"

    second = client.post("/addresses", {**ADDRESS, "recipient": "王五", "is_default": True})
    assert second.status_code == 201
    second = second.json()
    listed = client.get("/addresses").json()
    assert [(a["id"], a["is_default"]) for a in listed] == [(second["id"], True), (first["id"], False)]

    third = client.post("/addresses", {**ADDRESS, "recipient": "赵六"}).json()
    assert third["is_default"] is False

    updated = client.put(
        f"/addresses/{first['id']}", {**ADDRESS, "detail": "科技园 2 号", "is_default": True}
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["detail"] == "科技园 2 号"
    assert Address.objects.get(pk=second["id"]).is_default is False
    assert Address.objects.filter(user=buyer, is_default=True).get().pk == first["id"]

    assert client.delete(f"/addresses/{first['id']}").status_code == 204
    # Deleting the default passes the default to the newest remaining address.
    remaining = client.get("/addresses").json()
    assert [(a["id"], a["is_default"]) for a in remaining] == [(third["id"], True), (second["id"], False)]


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "12345"},
        {"phone": "2370000111"},
        {"phone": "13７００００１１１"},
        {"recipient": "  "},
        {"detail": ""},
        {"province": " "},
    ],
)
def test_address_validation(change):
    buyer = make_buyer()
    reply = api_for(buyer).post("/addresses", {**ADDRESS, **change})
    assert_refused(reply, 400, "ADDRESS_INVALID")
    assert Address.objects.count() == 0


@pytest.mark.parametrize("typed", ["137 0000 1111", "137-0000-1111", "13７００００１１１１"])
def test_an_address_phone_typed_in_groups_or_full_width_is_kept_as_its_digits(typed):
    reply = api_for(make_buyer()).post("/addresses", {**ADDRESS, "phone": typed})
    assert reply.status_code == 201, reply.content
    assert reply.json()["phone"] == Address.objects.get().phone == "13700001111"


def test_address_update_validation_leaves_the_address_unchanged():
    buyer = make_buyer()
    address = make_address(buyer)
    reply = api_for(buyer).put(f"/addresses/{address.pk}", {**ADDRESS, "phone": "999"})
    assert_refused(reply, 400, "ADDRESS_INVALID")
    address.refresh_from_db()
    assert (address.phone, address.recipient) == ("13800138000", "张三")


def test_cannot_read_or_change_another_buyers_address():
    owner = make_buyer()
    address = make_address(owner)
    stranger = api_for(make_buyer())
    assert stranger.get("/addresses").json() == []
    assert_refused(stranger.put(f"/addresses/{address.pk}", ADDRESS), 404, "ADDRESS_NOT_FOUND")
    assert_refused(stranger.delete(f"/addresses/{address.pk}"), 404, "ADDRESS_NOT_FOUND")
    address.refresh_from_db()
    assert (address.recipient, address.user_id, address.is_default) == ("张三", owner.pk, True)
    assert api_for(owner).get("/addresses").json()[0]["id"] == address.pk


def test_addresses_need_a_signed_in_buyer():
    assert_refused(ApiClient().get("/addresses"), 401, "UNAUTHORIZED")
    assert_refused(ApiClient().post("/addresses", ADDRESS), 401, "UNAUTHORIZED")
    assert Address.objects.count() == 0


def test_a_token_idle_past_the_limit_stops_working_and_is_dropped(settings):
    assert settings.API_TOKEN_IDLE_DAYS == 30
    make_buyer("13800000006", password=PASSWORD)
    idle, used, fresh = (login("13800000006").json()["token"] for _ in range(3))
    now = timezone.now()
    keys = {key: ApiToken.objects.get(key_hash=ApiToken.hash_key(key)).pk for key in (idle, used, fresh)}
    ApiToken.objects.filter(pk=keys[idle]).update(created_at=now - timedelta(days=40), last_used_at=None)
    ApiToken.objects.filter(pk=keys[used]).update(
        created_at=now - timedelta(days=90), last_used_at=now - timedelta(days=29)
    )
    assert ApiClient(used).get("/me").status_code == 200  # used within the window: still works
    assert ApiToken.objects.get(pk=keys[used]).last_used_at > now - timedelta(minutes=1)
    assert_refused(ApiClient(idle).get("/me"), 401, "UNAUTHORIZED")
    assert not ApiToken.objects.filter(pk=keys[idle]).exists()


def test_the_nightly_sweep_drops_only_idle_tokens():
    make_buyer("13800000007", password=PASSWORD)
    keys = [login("13800000007").json()["token"] for _ in range(4)]
    now = timezone.now()
    tokens = ApiToken.objects.order_by("pk")
    ApiToken.objects.filter(pk=tokens[0].pk).update(created_at=now - timedelta(days=31))
    ApiToken.objects.filter(pk=tokens[1].pk).update(last_used_at=now - timedelta(days=31))
    ApiToken.objects.filter(pk=tokens[2].pk).update(
        created_at=now - timedelta(days=200), last_used_at=now - timedelta(days=1)
    )
    assert drop_idle_tokens(chunk=1) == 2
    assert [ApiClient(key).get("/me").status_code for key in keys] == [401, 401, 200, 200]
