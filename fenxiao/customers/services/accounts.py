"""Registration by SMS code, password login (rate-limited, by phone or username) and API tokens."""

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.numbers import half_width

from ..errors import (
    InvalidPhone,
    LoginFailed,
    LoginRateLimited,
    PasswordResetRateLimited,
    RegisterRateLimited,
    SmsCodeInvalid,
    WeakPassword,
    WrongPassword,
)
from ..models import PHONE_PATTERN, ApiToken, SmsCode, User
from . import limits, sms_codes

# ASCII: `\d` alone also matches full-width and other Unicode digits ("13８...").
_phone_re = re.compile(PHONE_PATTERN, re.ASCII)


def normalise_phone(phone: str) -> str:
    """The 11 ASCII digits of a mainland mobile number typed with spaces, dashes, +86 or a
    full-width keyboard (１３８ …); InvalidPhone for anything else."""
    phone = "".join(half_width(phone or "").split()).replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _phone_re.match(phone):
        raise InvalidPhone()
    return phone


def register_buyer(
    *, phone: str, password: str, code: str, nickname: str = "", client_ip: str | None = None
) -> User:
    """A new buyer account, for the holder of a registration code texted to `phone`.

    The answer must not tell a stranger which phone numbers have accounts. A registered
    number is never texted a registration code (see `sms_codes`), so for it the answer is
    the one any wrong, expired or missing code gets: SMS_CODE_INVALID. The password is
    checked and hashed on every path, so timing does not tell either, and attempts are
    limited per client address (REGISTER_LIMIT_PER_ADDRESS per REGISTER_WINDOW_SECONDS) on
    top of each code's own cap on wrong tries.
    """
    phone = normalise_phone(phone)
    candidate = _candidate(phone, password, nickname)
    if client_ip and (
        limits.hit(limits.counter_key("register-ip", client_ip), settings.REGISTER_WINDOW_SECONDS)
        > settings.REGISTER_LIMIT_PER_ADDRESS
    ):
        raise RegisterRateLimited()
    sms_codes.consume_code(phone=phone, purpose=SmsCode.Purpose.REGISTER, code=code)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as exc:  # registered since the code was sent
        raise SmsCodeInvalid() from exc
    return candidate


def reset_password(*, phone: str, code: str, password: str, client_ip: str | None = None) -> User:
    """A buyer who forgot their password sets a new one with the code texted to their phone
    (`sms_codes.request_reset_code`). Every app token of theirs is signed out, and their
    web sessions end with the old password; the login lockout on the number is lifted.

    As with registration, a wrong, expired or missing code and a number without an account
    get one answer (SMS_CODE_INVALID), the password is checked on every path, and attempts
    are limited per client address on top of each code's own cap on wrong tries.
    """
    phone = normalise_phone(phone)
    user = sms_codes.resettable(phone)
    _check_new_password(password, user or User(username=phone, phone=phone))
    if client_ip and (
        limits.hit(limits.counter_key("reset-ip", client_ip), settings.REGISTER_WINDOW_SECONDS)
        > settings.REGISTER_LIMIT_PER_ADDRESS
    ):
        raise PasswordResetRateLimited()
    sms_codes.consume_code(phone=phone, purpose=SmsCode.Purpose.RESET_PASSWORD, code=code)
    if user is None:  # no code is ever texted to such a number; kept for the account gone since
        raise SmsCodeInvalid()
    _set_password(user, password)
    limits.reset(limits.counter_key("login-account", phone))
    return user


def change_password(user: User, *, old_password: str, password: str) -> None:
    """A signed-in buyer changes their password. Every app token is signed out (the caller
    issues a new one for the client that asked); other web sessions end."""
    # Guesses at the old password count against the account's login budget: a stolen
    # token or an open session must not be a way to try passwords without limit.
    key = limits.counter_key("login-account", user.username)
    if limits.hit(key, settings.LOGIN_FAILURE_WINDOW_SECONDS) > settings.LOGIN_FAILURE_LIMIT:
        raise LoginRateLimited(_("原密码错误次数过多，请稍后再试"))
    if not user.check_password(old_password or ""):
        raise WrongPassword()
    limits.reset(key)
    _check_new_password(password, user)
    _set_password(user, password)


def update_profile(user: User, *, nickname: str | None = None, accepts_marketing: bool | None = None) -> User:
    """Change what is given (None leaves a field as it is)."""
    changes = {}
    if nickname is not None:
        changes["nickname"] = user.nickname = nickname.strip()[:40]
    if accepts_marketing is not None:
        changes["accepts_marketing"] = user.accepts_marketing = bool(accepts_marketing)
    if changes:
        User.objects.filter(pk=user.pk).update(**changes)
    return user


def _check_new_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password or "", user=user)
    except ValidationError as exc:
        raise WeakPassword(_password_problems(exc)) from exc


def _set_password(user: User, password: str) -> None:
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        ApiToken.objects.filter(user=user).delete()


def create_buyer(*, phone: str, password: str, nickname: str = "") -> User:
    """A buyer account without an SMS code: for loading demo data and for tests only; the
    public endpoints go through `register_buyer`."""
    candidate = _candidate(normalise_phone(phone), password, nickname)
    candidate.save()
    return candidate


def _candidate(phone: str, password: str, nickname: str) -> User:
    candidate = User(username=phone, phone=phone, nickname=(nickname or "").strip()[:40])
    _check_new_password(password, candidate)
    candidate.set_password(password)
    return candidate


def _password_problems(exc: ValidationError) -> str:
    # Django 5.2's zh-hans catalogue has no translation for the minimum-length message
    # (its msgid changed), so that one would reach buyers in English; ours is in the
    # customers catalogue (English in English).
    messages = []
    for error in exc.error_list:
        if error.code == "password_too_short":
            min_length = (error.params or {}).get("min_length", 8)
            messages.append(_("密码太短，至少需要%(min_length)s个字符。") % {"min_length": min_length})
        else:
            messages.extend(error.messages)
    return _("；").join(messages)


def login_with_phone(*, phone: str, password: str, client_ip: str | None = None, request=None) -> User:
    """A buyer signs in with a phone number (any spelling of it counts as the same account)."""
    return _guarded_login(normalise_phone(phone), password, client_ip, request)


def login_with_username(*, username: str, password: str, client_ip: str | None = None, request=None) -> User:
    """Staff (and anyone) sign in with their username; limited exactly like phone logins."""
    username = (username or "").strip()
    if not username:
        raise LoginFailed()
    return _guarded_login(username, password, client_ip, request)


def _guarded_login(username: str, password: str, client_ip: str | None, request) -> User:
    """Check a password only while both the account's and the address's budgets allow it.

    Each attempt takes its place in both counters *before* the password is checked (see
    `limits`), so concurrent guesses cannot all slip in under the limit. A success resets
    the account's own counter (the owner got in) and gives back only its own place on the
    address counter: signing in to one's own account never wipes the failures the same
    address ran up against other accounts. The per-address limit is looser (4x) because
    many buyers may share one carrier NAT address.
    """
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    limit = settings.LOGIN_FAILURE_LIMIT
    account_key = limits.counter_key("login-account", username)
    address_key = limits.counter_key("login-ip", client_ip) if client_ip else None
    # The address first: an address over its budget writes nothing more, not even a counter
    # for each new account name it tries.
    if address_key and limits.hit(address_key, window) > limit * 4:
        raise LoginRateLimited()
    if limits.hit(account_key, window) > limit:
        raise LoginRateLimited()
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise LoginFailed()
    limits.reset(account_key)
    if address_key:
        limits.release(address_key)
    return user


def issue_token(user: User) -> str:
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash_key(key), prefix=key[:8])
    return key


def user_for_token(key: str) -> User | None:
    """The token's user, or None for a token unknown, revoked or idle past
    API_TOKEN_IDLE_DAYS: a phone lost or sold on stays signed in no longer than that."""
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if (token.last_used_at or token.created_at) < now - token_idle_limit():
        ApiToken.objects.filter(pk=token.pk).delete()
        return None
    # Touch at most once a minute: a write per request would serialise SQLite readers.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def token_idle_limit() -> timedelta:
    return timedelta(days=settings.API_TOKEN_IDLE_DAYS)


def drop_idle_tokens(chunk: int = 5000) -> int:
    """Deletes tokens idle past the limit (each login adds one; most apps never log out),
    a chunk per statement. Returns how many went."""
    cutoff = timezone.now() - token_idle_limit()
    idle = ApiToken.objects.filter(
        Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True, created_at__lt=cutoff)
    )
    dropped = 0
    while ids := list(idle.values_list("pk", flat=True)[:chunk]):
        dropped += ApiToken.objects.filter(pk__in=ids).delete()[0]
    return dropped


def revoke_token(key: str) -> None:
    ApiToken.objects.filter(key_hash=ApiToken.hash_key(key)).delete()
