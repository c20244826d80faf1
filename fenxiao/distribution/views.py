"""The referral link: /r/<code>?to=<page>&src=link|qr|poster|store|coupon."""

from urllib.parse import quote, unquote

from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from fenxiao.core import traffic
from fenxiao.core.http import client_ip, is_site_path

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
    response.set_cookie(
        REFERRAL_COOKIE,
        f"{distributors.normalize_code(code)}:{source}:{quote(target[:200], safe='')}",
        max_age=REFERRAL_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
    )
    return response


def claim_cookie_referral(request, response, user) -> None:
    """Called right after a sign-in or registration on the web: bind from the cookie."""
    raw = request.COOKIES.get(REFERRAL_COOKIE, "")
    code, _, rest = raw.partition(":")
    source, _, target = rest.partition(":")
    target = unquote(target)[:200]
    if code:
        binding.claim_referral(
            user,
            code,
            source if source in SOURCES else TouchSource.LINK,
            target=target if is_site_path(target) else "",
        )
        response.delete_cookie(REFERRAL_COOKIE)
