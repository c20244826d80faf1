"""Request guards that hold for every page and API call.

- A NUL byte can be stored by no database text column (PostgreSQL refuses it, and it has
  no business in a phone number, an address or a search), so any request carrying one, in
  its path, query string, form fields or JSON body, is refused with 400 before a view runs
  and nothing is written.
- A domain error that an H5 view did not handle itself (e.g. someone else's address id in
  the URL) becomes its 4xx page with the Chinese message, never a 500. The API turns them
  into JSON itself (`fenxiao/api.py`).
"""

import re

from .errors import DomainError
from .http import error_response

NUL_CODE = "INVALID_CHARACTERS"
NUL_MESSAGE = "请求中包含无效字符，请检查后重试"

# "\u0000" inside a JSON string is a NUL once parsed; an escaped backslash before it is not.
_json_nul = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_form_types = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(request) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = request.content_type or ""
    if content_type in _form_types:
        # Files are left alone: an image holds NUL bytes by nature.
        try:
            fields = request.POST
        except Exception:  # noqa: BLE001 - a malformed body is the view's (and Django's) to refuse
            return False
        return any("\x00" in key or any("\x00" in v for v in values) for key, values in fields.lists())
    body = request.body
    return b"\x00" in body or (b"\\u0000" in body.lower() and bool(_json_nul.search(body)))


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            return error_response(request, NUL_CODE, NUL_MESSAGE, 400)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError) and 400 <= exception.status < 500:
            return error_response(request, exception.code, exception.message, exception.status)
        return None
