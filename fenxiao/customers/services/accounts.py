"""Registration, phone + password login (rate-limited) and API tokens."""

import re
import secrets

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..errors import InvalidPhone, LoginFailed, LoginRateLimited, PhoneTaken, WeakPassword
from ..models import PHONE_PATTERN, ApiToken, User

# ASCII: `\d` alone also matches full-width and other Unicode digits ("13８...").
_phone_re = re.compile(PHONE_PATTERN, re.ASCII)


def normalise_phone(phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _phone_re.match(phone):
        raise InvalidPhone()
    return phone


def register_buyer(*, phone: str, password: str, nickname: str = "") -> User:
    phone = normalise_phone(phone)
    candidate = User(username=phone, phone=phone, nickname=nickname.strip()[:40])
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise WeakPassword(_password_problems(exc)) from exc
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as exc:
        raise PhoneTaken() from exc
    return candidate


def _password_problems(exc: ValidationError) -> str:
    # Django 5.2's zh-hans catalogue has no translation for the minimum-length message
    # (its msgid changed), so that one would reach buyers in English.
    messages = []
    for error in exc.error_list:
        if error.code == "password_too_short":
            min_length = (error.params or {}).get("min_length", 8)
            messages.append(f"密码太短，至少需要{min_length}个字符。")
        else:
            messages.extend(error.messages)
    return "；".join(messages)


def _failure_keys(phone: str, client_ip: str | None) -> list[str]:
    keys = [f"login-fail:phone:{phone}"]
    if client_ip:
        keys.append(f"login-fail:ip:{client_ip}")
    return keys


def login_with_phone(*, phone: str, password: str, client_ip: str | None = None, request=None) -> User:
    """Check a phone + password. Too many failures per phone or per address lock it out for a while.

    The counter lives in the shared cache (database or Redis), so it holds across processes.
    """
    phone = normalise_phone(phone)
    limit = settings.LOGIN_FAILURE_LIMIT
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    keys = _failure_keys(phone, client_ip)
    # The per-address limit is looser: many buyers may share one carrier NAT address.
    limits = [limit, limit * 4]
    for key, key_limit in zip(keys, limits, strict=False):
        if (cache.get(key) or 0) >= key_limit:
            raise LoginRateLimited()
    user = authenticate(request, username=phone, password=password)
    if user is None or not user.is_active:
        for key in keys:
            if cache.add(key, 1, timeout=window) is False:
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, timeout=window)
        raise LoginFailed()
    cache.delete_many(keys)
    return user


def issue_token(user: User) -> str:
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash_key(key), prefix=key[:8])
    return key


def user_for_token(key: str) -> User | None:
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
    # Touch at most once a minute: a write per request would serialise SQLite readers.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_token(key: str) -> None:
    ApiToken.objects.filter(key_hash=ApiToken.hash_key(key)).delete()
