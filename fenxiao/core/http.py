"""Request helpers shared by the API and the H5 views."""

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import InvalidInput


def client_ip(request) -> str | None:
    """The caller's address. Behind a reverse proxy, set CLIENT_IP_HEADER to the header the
    proxy writes (e.g. HTTP_X_REAL_IP); it is trusted as is, so only set it behind one.

    X-Forwarded-For is a list each proxy appends the address it saw to, after whatever the
    client sent: only the entries our own proxies wrote can be believed, so the client is the
    CLIENT_IP_PROXY_COUNT-th entry from the right (the last one behind a single proxy). The
    first entry is whatever the client typed, and would let anyone pick an address to dodge
    the login and SMS limits."""
    value = request.META.get(settings.CLIENT_IP_HEADER) or request.META.get("REMOTE_ADDR")
    if value and "," in value:
        entries = [entry.strip() for entry in value.split(",")]
        value = entries[-min(settings.CLIENT_IP_PROXY_COUNT, len(entries))]
    return value.strip() if value else None


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


def json_text(request, name: str) -> str:
    """The text field `name` of a JSON object body ("" when it is left out). A body that is no
    JSON object, or a field that is no text, is refused with a 400 naming it."""
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(_("请求内容不是有效的 JSON")) from None
    value = body.get(name, "") if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s 须为文字") % {"field": name}, field=name)
    return value


def error_response(request, code: str, message: str, status: int = 400):
    """A refusal as the caller reads it: JSON `{"code","message"}` for the API, a page for H5."""
    if is_api_request(request):
        return JsonResponse({"code": code, "message": str(message)}, status=status)
    context = {"status": status, "title": message, "message": _("错误代码：%(code)s") % {"code": code}}
    return render(request, "errors/base.html", context, status=status)


def is_site_path(value: str) -> bool:
    """True for a path on this site ("/orders/1/"), never for another host or scheme.

    Browsers treat "//host", "/\\host" and tabs or newlines inside a URL in surprising ways,
    so only a plain absolute path of printable characters passes.
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return False
    if "\\" in value or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        return False
    return urlsplit(value).netloc == "" and urlsplit(value).scheme == ""
