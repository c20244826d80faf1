"""Traffic recording: which requests count, for which visitor (`services/tracking.py` counts).

Counted: a good H5 page (GET, 200, a full HTML page, not an htmx fragment) as a page view;
the referral landing `/r/<code>` (a redirect) only for the day's source; a product page (H5
or API) and a cart add (H5 or API) when the view noted one. Never counted: HEAD, the
backend, static and media files, errors, obvious bots. The visitor cookie is set on the
first H5 response that counts; it is first-party, HttpOnly, SameSite=Lax, a year long and
Secure when the site's session cookie is.
"""

import logging
import re

from django.conf import settings
from django.utils.functional import empty

from fenxiao.core import traffic

from .services import tracking

logger = logging.getLogger(__name__)

# Crawlers and link previews announce themselves; the user agent is read, never stored.
_BOT = re.compile(
    r"bot\b|bot/|spider|crawl|slurp|facebookexternalhit|bingpreview|preview|python-requests|"
    r"curl/|wget/|httpclient|scrapy|lighthouse|monitor",
    re.IGNORECASE,
)


def is_bot(request) -> bool:
    agent = request.META.get("HTTP_USER_AGENT", "")
    return bool(agent) and _BOT.search(agent) is not None


class TrafficMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.TRAFFIC_TRACKING and request.method != "HEAD":
            try:
                self._track(request, response)
            except Exception:  # counts only: never fail the page that was served
                logger.exception("traffic not recorded for %s", request.path)
        return response

    def _track(self, request, response):
        match = request.resolver_match
        if match is None:
            return
        area = match.namespaces[0] if match.namespaces else match.url_name
        if area == "storefront":
            self._storefront(request, response, match.url_name)
        elif area in ("referral", "store_qr"):
            self._referral(request, response)
        elif area == "api":
            self._api(request, response)

    def _storefront(self, request, response, url_name):
        noted = traffic.noted(request)
        page = (
            request.method == "GET"
            and response.status_code == 200
            and not request.headers.get("HX-Request")
            and response.get("Content-Type", "").startswith("text/html")
        )
        if not page and not (noted and noted.cart_adds and response.status_code < 400):
            return
        if is_bot(request):
            return
        visitor = self._cookie_visitor(request, response)
        tracking.record(
            visitor,
            source=tracking.page_source(
                search_page=url_name == "search", referer=request.META.get("HTTP_REFERER")
            ),
            buyer_id=_signed_in(request),
            page_views=1 if page else 0,
            product_id=noted.product_id if page and noted else None,
            cart_adds=noted.cart_adds if noted else 0,
        )

    def _referral(self, request, response):
        """The landing itself is a redirect, not a page view: it only gives the day's source
        (link / QR / poster / store / coupon) and the distributor, if it is the day's first. The
        referral view notes them once it knows the code (an unknown code notes nothing)."""
        noted = traffic.noted(request)
        if noted is None or noted.referral is None or response.status_code >= 400 or is_bot(request):
            return
        distributor_id, source = noted.referral
        tracking.record(
            self._cookie_visitor(request, response),
            source=tracking.referral_source(source),
            distributor_id=distributor_id,
            buyer_id=_signed_in(request),
        )

    def _api(self, request, response):
        noted = traffic.noted(request)
        if noted is None or response.status_code >= 400 or is_bot(request):
            return
        buyer_id = _signed_in(request) or _token_buyer(request)
        visitor = (
            tracking.valid_visitor(request.COOKIES.get(tracking.VISITOR_COOKIE))
            or tracking.valid_visitor(request.META.get(tracking.VISITOR_HEADER, "").lower())
            or (tracking.buyer_visitor(buyer_id) if buyer_id else None)
        )
        if visitor is None:  # an anonymous caller with no id would be a new visitor each call
            return
        tracking.record(
            visitor,
            source=tracking.page_source(search_page=False, referer=request.META.get("HTTP_REFERER")),
            buyer_id=buyer_id,
            product_id=noted.product_id,
            cart_adds=noted.cart_adds,
        )

    def _cookie_visitor(self, request, response) -> str:
        visitor = tracking.valid_visitor(request.COOKIES.get(tracking.VISITOR_COOKIE))
        if visitor is None:
            visitor = tracking.new_visitor()
            response.set_cookie(
                tracking.VISITOR_COOKIE,
                visitor,
                max_age=tracking.VISITOR_COOKIE_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return visitor


# Which buyer a session is, per session key, so a page that did not load its user (the home
# page) learns it without a query after the session's first counted page in this process.
# Signing in or out changes the session key, so a key never changes buyer.
_buyer_by_session: dict[str, int | None] = {}
_SESSIONS_KEPT = 20_000


def _signed_in(request) -> int | None:
    user = getattr(request, "user", None)
    if user is None:
        return None
    if getattr(user, "_wrapped", None) is not empty:  # loaded by the view, or set by API auth
        return user.pk if user.is_authenticated else None
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None  # no session, no sign-in
    if key not in _buyer_by_session:
        if len(_buyer_by_session) >= _SESSIONS_KEPT:
            _buyer_by_session.clear()
        _buyer_by_session[key] = user.pk if user.is_authenticated else None
    return _buyer_by_session[key]


def _token_buyer(request) -> int | None:
    """Public API operations (the product detail) do not authenticate; a buyer sending a
    token is still the buyer whose trail this is."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    from fenxiao.customers.services.accounts import user_for_token

    user = user_for_token(header[7:].strip())
    return user.pk if user is not None else None
