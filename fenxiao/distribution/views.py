"""The referral link: /r/<code>?to=<page>&src=link|qr|poster|store|coupon."""

from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import quote, unquote

from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from fenxiao.core import traffic
from fenxiao.core.http import client_ip, is_site_path
from fenxiao.core.numbers import whole_number

from .models import TouchSource
from .services import binding, distributors, visits

REFERRAL_COOKIE = "fx_ref"
REFERRAL_COOKIE_AGE = 30 * 24 * 3600
SOURCES = {TouchSource.LINK, TouchSource.QR, TouchSource.POSTER, TouchSource.STORE, TouchSource.COUPON}


def referral(request, code: str):
    target = request.GET.get("to") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    source = request.GET.get("src", TouchSource.LINK)
    if source not in SOURCES:
        source = TouchSource.LINK
    response = HttpResponseRedirect(target)
    # `request.user` costs nothing without a session cookie (the usual first visit); with one,
    # it is needed anyway to tell a signed-in buyer, whose visit is decided, from a visitor.
    if request.user.is_authenticated:
        distributor = distributors.by_code(code)
        if distributor is not None:
            binding.record_touch(request.user, distributor, source, target=target)
            traffic.note_referral(request, distributor.pk, source)
        return response
    # Signed out: nothing is decided, so the distributor's row is not needed, only its id
    # (cached) — the visit is counted in this process's next batch write (see `visits`).
    distributor_id = distributors.id_for_code(code)
    if distributor_id is None:
        return response
    traffic.note_referral(request, distributor_id, source)
    visits.count(distributor_id, source, target=target, visitor=binding.visitor_key(client_ip(request)))
    # The cookie only carries the referral until sign-in; binding is decided then, with the
    # page the visitor landed on (which product or coupon brought them) kept on the touch.
    code = distributors.normalize_code(code)
    earlier = _read_cookie(request)
    if earlier.code != code and binding.earlier_referral_stands(earlier.code, earlier.since, code):
        return response  # counted; the referral that came first is the one sign-in decides on
    # The first visit's time is kept while the same distributor's links come again: a
    # mode's window (有效期, 保护期) runs from when the referral began, as a binding's would.
    since = earlier.since if earlier.code == code and earlier.since else timezone.now()
    response.set_cookie(
        REFERRAL_COOKIE,
        f"{code}:{source}:{quote(target[:200], safe='')}:{int(since.timestamp())}",
        max_age=REFERRAL_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
    )
    return response


class _Referral(NamedTuple):
    code: str | None
    source: str
    target: str
    since: datetime | None


def _read_cookie(request) -> _Referral:
    """The cookie's code:source:target:since (its first visit, in Unix seconds; cookies set
    before it was kept have none)."""
    code, source, target, since = (request.COOKIES.get(REFERRAL_COOKIE, "").split(":") + ["", "", ""])[:4]
    seconds = whole_number(since, max_digits=11)
    return _Referral(
        distributors.normalize_code(code) if code else None,
        source if source in SOURCES else TouchSource.LINK,
        unquote(target)[:200],
        datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None,
    )


def claim_cookie_referral(request, response, user) -> None:
    """Called right after a sign-in or registration on the web: bind from the cookie."""
    code, source, target, _since = _read_cookie(request)
    if code:
        binding.claim_referral(user, code, source, target=target if is_site_path(target) else "")
        response.delete_cookie(REFERRAL_COOKIE)
