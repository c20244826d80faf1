"""Request guards that hold for every page and API call.

- A NUL byte can be stored by no database text column (PostgreSQL refuses it, and it has
  no business in a phone number, an address or a search), so any request carrying one, in
  its path, query string, form fields or JSON body, is refused with 400 before a view runs
  and nothing is written.
- A domain error that an H5 view did not handle itself (e.g. someone else's address id in
  the URL) becomes its 4xx page with the Chinese message, never a 500.
- A number too large for the database (SQLite binds integers as 64 bits; a hand-typed
  `?store=99999999999999999999` on a backend list's filter) is bad input too: a backend list
  goes back to itself with Django's invalid-filter notice (`?e=1`), anything else gets 400. The API turns them
  into JSON itself (`fenxiao/api.py`).
- The language is Simplified Chinese unless the visitor chose English (`LanguageMiddleware`).
"""

import re

from django.conf import settings
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import BadRequest
from django.http import HttpResponseRedirect, RawPostDataException
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .http import error_response, is_api_request

NUL_CODE = "INVALID_CHARACTERS"
NUL_MESSAGE = _("请求中包含无效字符，请检查后重试")
BAD_FORMAT_MESSAGE = _("请求格式有误，请检查后重试")
TOO_LARGE_MESSAGE = _("数字超出范围，请检查后重试")

# "\u0000" inside a JSON string is a NUL once parsed; an escaped backslash before it is not.
_json_nul = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def _fields_have_nul(fields) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in fields.lists())


def _has_nul(request) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if _fields_have_nul(request.GET):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        return _multipart_has_nul(request)
    if content_type == "application/x-www-form-urlencoded":
        return _fields_have_nul(request.POST) or _raw_has_nul(request.body)
    return _raw_has_nul(request.body)


def _raw_has_nul(body: bytes) -> bool:
    return b"\x00" in body or (b"\\u0000" in body.lower() and bool(_json_nul.search(body)))


def _multipart_has_nul(request) -> bool:
    # The API parses a JSON body whatever the request says it is, so a body labelled as a
    # form that does not hold an upload is checked whole. Reading it first keeps it for an
    # endpoint that reads the raw bytes (a gateway notification, a signed POS call); only a
    # body too big to hold in memory is parsed straight from the stream.
    api = is_api_request(request)
    size = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = request.body if api and size.isascii() and size.isdigit() and int(size) <= limit else None
    # Form fields only: uploaded files (images) hold NUL bytes by nature.
    try:
        fields, files = request.POST, request.FILES
    except MultiPartParserError:
        raise BadRequest("malformed multipart body") from None
    if _fields_have_nul(fields):
        return True
    return body is not None and not files and _raw_has_nul(body)


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            refused = _has_nul(request)
        except BadRequest:
            return self._refuse(request, "INVALID_INPUT", BAD_FORMAT_MESSAGE)
        if refused:
            return self._refuse(request, NUL_CODE, NUL_MESSAGE)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, code: str, message):
        # LanguageMiddleware runs first, so the refusal is in the visitor's language.
        return error_response(request, code, str(message), 400)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError) and 400 <= exception.status < 500:
            return error_response(request, exception.code, exception.message, exception.status)
        if isinstance(exception, RawPostDataException):
            # An upload too big to hold, sent to an endpoint that reads the raw body (a
            # gateway notification): the middleware parsed it as a form, and no such endpoint
            # takes a form.
            return self._refuse(request, "INVALID_INPUT", BAD_FORMAT_MESSAGE)
        if isinstance(exception, OverflowError):
            match = request.resolver_match
            if (
                request.method == "GET"
                and match is not None
                and match.namespace == "admin"
                and (match.url_name or "").endswith("_changelist")
                and ERROR_FLAG not in request.GET
            ):
                return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
            return self._refuse(request, "INVALID_INPUT", TOO_LARGE_MESSAGE)
        return None


class LanguageMiddleware:
    """Pages speak Simplified Chinese unless the visitor picked English.

    Django's LocaleMiddleware follows the browser's Accept-Language, which every browser
    sends on its own: a Chinese shopper whose phone is set to English would get an English
    shop they never asked for. So pages follow only an explicit choice, the language cookie
    that `/i18n/setlang/` (the H5 settings page, the backend's switcher) writes. An API
    client states its language in Accept-Language on purpose, so the API follows it (after
    that cookie, which a page's own calls carry).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = is_api_request(request)
        language = _chosen_language(request, api)
        outside = translation.get_language()
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
        finally:
            # Back to what the thread spoke before, so work done outside a request on it (a
            # task run in process, a test) is not in the last visitor's language.
            translation.activate(outside)
        patch_vary_headers(response, ("Cookie", "Accept-Language") if api else ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


def _chosen_language(request, api: bool) -> str:
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie:
        try:
            return translation.get_supported_language_variant(cookie)
        except LookupError:
            pass
    if api:
        return translation.get_language_from_request(request)
    return settings.LANGUAGE_CODE
