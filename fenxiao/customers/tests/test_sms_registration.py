"""Registration by SMS code: one answer for new and registered numbers, the code's expiry
and wrong-try cap, the sending limits, the outbox and its sweeper, production without a
gateway, the H5 page and the backend's sandbox outbox."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from fenxiao.customers.models import SmsCode, SmsMessage, User
from fenxiao.customers.services import sms_codes
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.customers.sms import SmsSendFailed
from fenxiao.customers.sms.sandbox import SandboxSmsGateway
from fenxiao.customers.tasks import sweep_sms_outbox
from fenxiao.testing import ApiClient, last_sms_code, make_buyer, make_staff, sms_code_for

pytestmark = pytest.mark.django_db

PASSWORD = "Secret#2026"
REGISTERED = "13800000021"
NEW = "13800000022"


def ask_code(phone, client=None):
    return (client or ApiClient()).post("/auth/sms-code", {"phone": phone, "purpose": "register"})


def register(phone, code, client=None):
    return (client or ApiClient()).post(
        "/auth/register", {"phone": phone, "password": PASSWORD, "code": code}
    )


def answer(reply):
    return reply.status_code, reply.json()


def test_asking_for_a_code_answers_the_same_for_new_and_registered_numbers():
    make_buyer(REGISTERED, password=PASSWORD)
    registered, new = ask_code(REGISTERED), ask_code(NEW)
    assert answer(registered) == answer(new) == (202, {"message": "验证码已发送", "resend_after": 60})
    # Only the phone's owner learns the difference, from the text itself.
    to_registered = SmsMessage.objects.get(phone=REGISTERED)
    assert "已注册" in to_registered.text and not any(ch.isdigit() for ch in to_registered.text)
    assert last_sms_code(NEW)
    assert list(SmsCode.objects.values_list("phone", flat=True)) == [NEW]
    assert SmsCode.objects.get().code_hash != last_sms_code(NEW)  # stored hashed


def test_registering_answers_the_same_for_a_registered_number_and_a_wrong_code():
    make_buyer(REGISTERED, password=PASSWORD)
    assert ask_code(REGISTERED).status_code == ask_code(NEW).status_code == 202
    right = last_sms_code(NEW)
    wrong = "000000" if right != "000000" else "111111"
    refusals = [answer(register(REGISTERED, right)), answer(register(NEW, wrong)), answer(register(NEW, ""))]
    assert refusals == [(400, {"code": "SMS_CODE_INVALID", "message": "验证码错误或已过期"})] * 3
    assert User.objects.filter(phone=NEW).count() == 0
    reply = register(NEW, right)
    assert reply.status_code == 201, reply.content
    assert reply.json()["token"]
    assert User.objects.get(phone=NEW).check_password(PASSWORD)
    # A code is used once.
    assert answer(register(NEW, right)) == refusals[0]


def test_a_code_expires_after_ten_minutes():
    code = sms_code_for(NEW)
    row = SmsCode.objects.get(phone=NEW)
    assert timedelta(minutes=9, seconds=50) < row.expires_at - timezone.now() <= timedelta(minutes=10)
    SmsCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert answer(register(NEW, code)) == (400, {"code": "SMS_CODE_INVALID", "message": "验证码错误或已过期"})
    assert not User.objects.filter(phone=NEW).exists()


@pytest.mark.parametrize(("wrong_tries", "status"), [(4, 201), (5, 400)])
def test_five_wrong_tries_use_a_code_up(wrong_tries, status):
    code = sms_code_for(NEW)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(wrong_tries):
        assert register(NEW, wrong).json()["code"] == "SMS_CODE_INVALID"
    assert register(NEW, code).status_code == status
    assert User.objects.filter(phone=NEW).exists() == (status == 201)


def test_a_new_code_replaces_the_old_one(settings):
    settings.SMS_CODE_PHONE_INTERVAL_SECONDS = 0  # no wait between sends in this test
    first = sms_code_for(NEW)
    second = sms_code_for(NEW)
    assert SmsCode.objects.filter(phone=NEW).count() == 1
    if first != second:
        assert register(NEW, first).json()["code"] == "SMS_CODE_INVALID"
    assert register(NEW, second).status_code == 201


def test_one_code_a_minute_per_number_same_answer_for_registered_numbers():
    make_buyer(REGISTERED, password=PASSWORD)
    assert ask_code(NEW).status_code == ask_code(REGISTERED).status_code == 202
    limited = answer(ask_code(NEW)), answer(ask_code("+86 138-0000-0021"))
    assert (
        limited[0]
        == limited[1]
        == (429, {"code": "SMS_RATE_LIMITED", "message": "验证码发送过于频繁，请稍后再试"})
    )
    assert SmsMessage.objects.count() == 2


def test_ten_codes_a_day_per_number(settings):
    settings.SMS_CODE_PHONE_INTERVAL_SECONDS = 0
    for _ in range(10):
        assert ask_code(NEW).status_code == 202
    assert answer(ask_code(NEW))[1]["code"] == "SMS_RATE_LIMITED"
    assert SmsMessage.objects.count() == 10


def test_codes_are_limited_per_client_address(settings):
    settings.SMS_CODE_LIMIT_PER_ADDRESS = 3
    for i in range(3):
        assert ask_code(f"1370000000{i}").status_code == 202
    assert answer(ask_code("13700000009"))[0] == 429
    assert not SmsMessage.objects.filter(phone="13700000009").exists()
    other = ApiClient()
    other.client.defaults["REMOTE_ADDR"] = "10.9.8.7"
    assert ask_code("13700000009", client=other).status_code == 202


def test_asking_for_a_code_takes_json_only_and_known_purposes():
    reply = Client().post(
        "/api/v1/auth/sms-code", json.dumps({"phone": NEW, "purpose": "register"}), content_type="text/plain"
    )
    assert reply.status_code == 415
    assert ApiClient().post("/auth/sms-code", {"phone": NEW, "purpose": "login"}).status_code == 422
    assert answer(ask_code("12345"))[1]["code"] == "INVALID_PHONE"
    assert not SmsMessage.objects.exists()


@pytest.mark.parametrize("gateway", ["", "sandbox"])
def test_production_without_an_sms_gateway_refuses_cleanly(settings, gateway):
    settings.DEMO_MODE = settings.DEBUG = False
    settings.SMS_GATEWAY = gateway  # the sandbox is never used outside demo mode
    reply = ask_code(NEW)
    assert answer(reply) == (
        503,
        {"code": "SMS_UNAVAILABLE", "message": "短信服务暂未开通，暂时无法发送验证码，请稍后再试或联系客服"},
    )
    page = Client().post("/register/", {"action": "send_code", "phone": NEW})
    assert page.status_code == 200
    assert "短信服务暂未开通" in page.content.decode()
    assert not SmsMessage.objects.exists() and not SmsCode.objects.exists()


# --- the outbox ----------------------------------------------------------------------------


def test_a_message_is_sent_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert ask_code(NEW).status_code == 202
    message = SmsMessage.objects.get()
    assert (message.status, message.attempts, message.gateway) == ("sent", 1, "sandbox")
    assert message.sent_at is not None


def test_the_sweeper_re_drives_a_message_whose_send_failed_or_never_ran(
    monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(self, **kwargs):
        raise SmsSendFailed("通道繁忙")

    monkeypatch.setattr(SandboxSmsGateway, "send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        assert ask_code(NEW).status_code == 202
    failed = SmsMessage.objects.get()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 1, "通道繁忙")
    # A second message whose task never ran (the worker died): still pending, never tried.
    SmsMessage.objects.create(
        phone="13800000023",
        purpose="register",
        text="测试",
        gateway="sandbox",
        next_attempt_at=timezone.now() + timedelta(minutes=2),
    )
    monkeypatch.undo()

    sweep_sms_outbox.call_local()  # nothing is due yet
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {"pending"}

    SmsMessage.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    sweep_sms_outbox.call_local()
    assert list(SmsMessage.objects.order_by("id").values_list("status", "attempts")) == [
        ("sent", 2),
        ("sent", 1),
    ]


def test_a_message_is_given_up_after_five_failed_sends(monkeypatch):
    monkeypatch.setattr(
        SandboxSmsGateway, "send", lambda self, **kw: (_ for _ in ()).throw(SmsSendFailed("坏"))
    )
    message = sms_codes.queue_message(
        phone=NEW, purpose="register", template="already_registered", params={}, gateway="sandbox"
    )
    for _ in range(6):
        SmsMessage.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        sms_codes.sweep()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 5)


# --- H5 ------------------------------------------------------------------------------------


def test_h5_shows_the_sandbox_message_and_keeps_what_was_typed():
    page = Client().post("/register/", {"action": "send_code", "phone": NEW, "nickname": "小王"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "演示短信（沙箱，未真实发送）" in html and last_sms_code(NEW) in html
    assert f'value="{NEW}"' in html and 'value="小王"' in html


def test_h5_code_button_by_htmx_answers_just_the_notice():
    page = Client().post("/register/", {"action": "send_code", "phone": NEW}, HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert "<form" not in html and 'data-resend-after="60"' in html and last_sms_code(NEW) in html


def test_h5_registration_with_the_code():
    client = Client()
    client.post("/register/", {"action": "send_code", "phone": NEW})
    data = {"phone": NEW, "nickname": "小王", "password": PASSWORD, "password2": PASSWORD}
    wrong = client.post("/register/", {**data, "code": "12345"})
    html = wrong.content.decode()
    assert "验证码错误或已过期" in html and f'value="{NEW}"' in html and 'value="12345"' in html
    done = client.post("/register/", {**data, "code": last_sms_code(NEW)})
    assert (done.status_code, done["Location"]) == (302, "/me/")
    assert User.objects.get(phone=NEW).nickname == "小王"


# --- backend -------------------------------------------------------------------------------


def test_the_sandbox_outbox_is_for_superusers_only_with_masked_phones():
    sms_code_for(NEW)
    admin_client = Client()
    admin_client.force_login(make_staff("root", superuser=True))
    page = admin_client.get("/backend/customers/smsmessage/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "138****0022" in html and NEW not in html
    assert "沙箱短信" in html  # the sidebar entry (the sandbox is on)

    ensure_staff_groups()
    for role in (OPERATIONS, FINANCE):
        member = make_staff(role)
        member.groups.add(Group.objects.get(name=role))
        client = Client()
        client.force_login(member)
        assert client.get("/backend/customers/smsmessage/").status_code == 403
        assert "沙箱短信" not in client.get("/backend/").content.decode()


def test_the_sweeper_gives_up_a_stranded_last_try_and_drops_old_messages():
    stranded = SmsMessage.objects.create(
        phone=NEW,
        purpose="register",
        text="测试",
        gateway="sandbox",
        attempts=5,
        next_attempt_at=timezone.now(),
    )
    old = SmsMessage.objects.create(
        phone=NEW,
        purpose="register",
        text="测试",
        gateway="sandbox",
        status="sent",
        next_attempt_at=timezone.now(),
    )
    SmsMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    sms_codes.sweep()
    stranded.refresh_from_db()
    assert (stranded.status, stranded.attempts) == ("failed", 5)
    assert not SmsMessage.objects.filter(pk=old.pk).exists()
