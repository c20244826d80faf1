"""Registration and password-reset codes by SMS, and the SMS outbox.

Asking for a registration code answers the same for every valid number, whether it has an
account or not: a new number is texted a 6-digit code, a registered one is texted that it
already has an account (and no code). Registering then needs a valid code, which a
registered number never has, so "wrong code" and "already registered" are one answer
(SMS_CODE_INVALID). The only party who learns whether a number has an account is the
owner of the phone. A password-reset code is the mirror image: only a buyer's number is
texted a code, any other is texted that it has no account.

Messages go through an outbox: the row is written in the transaction that decides to send
it, handed to the gateway by a Huey task after commit, and a row still pending past its
`next_attempt_at` (the worker died, the gateway failed) is handed over again by `sweep`.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fenxiao.core.numbers import half_width

from ..errors import SmsCodeInvalid, SmsRateLimited
from ..models import SmsCode, SmsMessage, User
from ..sms import get_sms_gateway
from . import limits

log = logging.getLogger(__name__)

DAY_SECONDS = 86400
# A message not confirmed sent this long after it was handed over is handed over again.
DELIVERY_TIMEOUT = timedelta(minutes=2)
MAX_SEND_ATTEMPTS = 5
KEEP_MESSAGES = timedelta(days=30)

Template = SmsMessage.Template
# What each message says (the sandbox shows it; a real gateway sends the template the
# merchant registered with the same wording and the parameters `code` and `minutes`).
TEXTS = {
    Template.REGISTER_CODE: "【分销商城】您的注册验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人。",
    Template.ALREADY_REGISTERED: (
        "【分销商城】该手机号已注册过账号，无需再次注册，请直接用手机号和密码登录；"
        "忘记密码可在登录页点击“忘记密码”重置。如非本人操作，请忽略本短信。"
    ),
    Template.RESET_CODE: (
        "【分销商城】您正在重置登录密码，验证码为 {code}，{minutes} 分钟内有效。"
        "如非本人操作，请忽略本短信，不要把验证码告诉任何人。"
    ),
    Template.NOT_REGISTERED: (
        "【分销商城】该手机号尚未注册账号，无法重置密码，欢迎注册。如非本人操作，请忽略本短信。"
    ),
}


def _hash(phone: str, purpose: str, code: str) -> str:
    message = f"{purpose}:{phone}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _check_limits(phone: str, client_ip: str | None) -> None:
    # The address first: an address over its budget writes no counter for each new number.
    if client_ip and (
        limits.hit(limits.counter_key("sms-ip", client_ip), settings.SMS_CODE_ADDRESS_WINDOW_SECONDS)
        > settings.SMS_CODE_LIMIT_PER_ADDRESS
    ):
        raise SmsRateLimited()
    minute = limits.hit(
        limits.counter_key("sms-phone-minute", phone), settings.SMS_CODE_PHONE_INTERVAL_SECONDS
    )
    if minute > 1:
        raise SmsRateLimited()
    day = limits.hit(limits.counter_key("sms-phone-day", phone), DAY_SECONDS)
    if day > settings.SMS_CODE_PHONE_DAILY_LIMIT:
        raise SmsRateLimited()


def request_register_code(*, phone: str, client_ip: str | None = None) -> SmsMessage:
    """Text `phone` a registration code, or, when it has an account, a note saying so.
    `phone` is normalised. Returns the outbox row (the H5 page shows it in demo mode)."""
    gateway = get_sms_gateway()
    _check_limits(phone, client_ip)
    purpose = SmsCode.Purpose.REGISTER
    with transaction.atomic():
        if User.objects.filter(phone=phone).exists():
            template, params = Template.ALREADY_REGISTERED, {}
        else:
            template, params = Template.REGISTER_CODE, _new_code_params(phone, purpose)
        return queue_message(
            phone=phone, purpose=purpose, template=template, params=params, gateway=gateway.name
        )


def resettable(phone: str) -> User | None:
    """The buyer account that signs in with `phone`, if any (staff reset theirs in the backend)."""
    return User.objects.filter(username=phone, is_active=True, is_staff=False, is_superuser=False).first()


def request_reset_code(*, phone: str, client_ip: str | None = None) -> SmsMessage:
    """Text a buyer's `phone` a password-reset code, or, when it has no account, a note
    saying so; limited exactly like registration codes."""
    gateway = get_sms_gateway()
    _check_limits(phone, client_ip)
    purpose = SmsCode.Purpose.RESET_PASSWORD
    with transaction.atomic():
        if resettable(phone) is None:
            template, params = Template.NOT_REGISTERED, {}
        else:
            template, params = Template.RESET_CODE, _new_code_params(phone, purpose)
        return queue_message(
            phone=phone, purpose=purpose, template=template, params=params, gateway=gateway.name
        )


def _new_code_params(phone: str, purpose: str) -> dict[str, str]:
    """A fresh code's template parameters. Gateways take parameters as strings."""
    return {"code": _new_code(phone, purpose), "minutes": str(settings.SMS_CODE_TTL_SECONDS // 60)}


def _new_code(phone: str, purpose: str) -> str:
    """A fresh 6-digit code for the phone and purpose (any earlier one is replaced)."""
    code = f"{secrets.randbelow(10**6):06d}"
    SmsCode.objects.update_or_create(
        phone=phone,
        purpose=purpose,
        defaults={
            "code_hash": _hash(phone, purpose, code),
            "expires_at": timezone.now() + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
            "failed_attempts": 0,
        },
    )
    return code


def queue_message(*, phone: str, purpose: str, template: str, params: dict, gateway: str) -> SmsMessage:
    message = SmsMessage.objects.create(
        phone=phone,
        purpose=purpose,
        template=template,
        params=params,
        text=TEXTS[template].format(**params),
        gateway=gateway,
        next_attempt_at=timezone.now() + DELIVERY_TIMEOUT,
    )
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    from ..tasks import send_sms

    send_sms(message_id)


def consume_code(*, phone: str, purpose: str, code: str) -> None:
    """Use up the phone's code if `code` matches it; SmsCodeInvalid otherwise (no code,
    expired, too many wrong tries, or wrong). A wrong try is counted and stays counted."""
    now = timezone.now()
    # Typed on a full-width keyboard (１２３４５６), the same code.
    code = half_width(code or "").strip()
    with transaction.atomic():
        row = SmsCode.objects.select_for_update().filter(phone=phone, purpose=purpose).first()
        if row is None or row.expires_at <= now or row.failed_attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            valid = False
        elif hmac.compare_digest(row.code_hash, _hash(phone, purpose, code)):
            row.delete()
            valid = True
        else:
            SmsCode.objects.filter(pk=row.pk).update(failed_attempts=F("failed_attempts") + 1)
            valid = False
    if not valid:
        raise SmsCodeInvalid()


def deliver(message_id: int) -> None:
    """Hand one pending message to its gateway. Claims the row first (pushing its deadline
    out), so a concurrent sweeper does not send it at the same moment."""
    now = timezone.now()
    claimed = SmsMessage.objects.filter(
        pk=message_id, status=SmsMessage.Status.PENDING, attempts__lt=MAX_SEND_ATTEMPTS
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + DELIVERY_TIMEOUT)
    if not claimed:
        return
    message = SmsMessage.objects.get(pk=message_id)
    try:
        gateway = get_sms_gateway(message.gateway)
        gateway.send(
            phone=message.phone,
            text=message.text,
            template=message.template,
            params=message.params,
            reference=str(message.pk),
        )
    except Exception as error:  # noqa: BLE001 - any failure is retried by the sweeper
        log.warning("SMS %s not sent: %s", message_id, error)
        gave_up = message.attempts >= MAX_SEND_ATTEMPTS or getattr(error, "permanent", False)
        status = SmsMessage.Status.FAILED if gave_up else SmsMessage.Status.PENDING
        SmsMessage.objects.filter(pk=message_id).update(status=status, last_error=str(error)[:200])
        return
    SmsMessage.objects.filter(pk=message_id).update(status=SmsMessage.Status.SENT, sent_at=timezone.now())


def sweep() -> int:
    """Re-drive messages still pending past their deadline; drop expired codes and old
    messages (so anonymous requests cannot grow the tables without bound)."""
    now = timezone.now()
    pending = SmsMessage.objects.filter(status=SmsMessage.Status.PENDING, next_attempt_at__lte=now)
    # A worker that died during its last allowed send leaves the row pending: give it up.
    pending.filter(attempts__gte=MAX_SEND_ATTEMPTS).update(
        status=SmsMessage.Status.FAILED, last_error="发送次数已用完"
    )
    due = list(pending.filter(attempts__lt=MAX_SEND_ATTEMPTS).values_list("pk", flat=True)[:200])
    for message_id in due:
        deliver(message_id)
    SmsCode.objects.filter(expires_at__lte=now - timedelta(days=1)).delete()
    SmsMessage.objects.filter(created_at__lte=now - KEEP_MESSAGES).delete()
    return len(due)
