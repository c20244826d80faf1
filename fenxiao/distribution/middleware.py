"""Pages shared from WeChat's own menu (…) carry the sharer: an active distributor's product
pages put `?ref=<code>` in the address bar (storefront app.js), and any storefront page
opened with it is sent through the referral link `/r/<code>` — the same touch, binding,
cookie and traffic as a shared link — then on to the clean page."""

from urllib.parse import quote, urlencode

from django.http import HttpResponseRedirect
from django.utils.encoding import escape_uri_path
from django.utils.http import url_has_allowed_host_and_scheme

from .services import distributors

PARAM = "ref"
# Where a `ref` is not a referral: the backend, the APIs and files.
OTHER_AREAS = ("/r/", "/backend/", "/api/", "/static/", "/media/", "/s/")


class ShareLinkMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            PARAM in request.GET
            and request.method == "GET"
            and not request.headers.get("HX-Request")
            and not request.path.startswith(OTHER_AREAS)
        ):
            query = request.GET.copy()
            code = distributors.normalize_code(query.pop(PARAM)[-1])
            # The page as it was asked for, re-encoded: a path like "//host/" or one holding
            # an encoded "?" must not turn into another site or another query.
            target = escape_uri_path(request.path) + (f"?{query.urlencode()}" if query else "")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/"
            if code is None or not code.isalnum() or self._own(request, code):
                # The distributor reloading their own shared page is no visit.
                return HttpResponseRedirect(target)
            return HttpResponseRedirect(f"/r/{quote(code)}?{urlencode({'to': target})}")
        return self.get_response(request)

    @staticmethod
    def _own(request, code: str) -> bool:
        if not request.user.is_authenticated:
            return False
        own = distributors.for_user(request.user)
        return own is not None and own.referral_code == code
