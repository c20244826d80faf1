"""Helpers shared by the H5 views: they only read requests and call services."""

from django.contrib import messages
from django.shortcuts import redirect

from fenxiao.core.errors import DomainError
from fenxiao.core.http import is_site_path


def safe_next(request, default: str = "/") -> str:
    """Where to go after a form: only a path on this site ("abc" or "//evil" fall back)."""
    target = request.POST.get("next") or request.GET.get("next") or default
    return target if is_site_path(target) else default


def fail(request, error: DomainError, to: str):
    messages.error(request, error.message)
    return redirect(to)


# Ids and counts beyond a signed 64-bit integer cannot exist; the databases fail on them.
_INT_LIMIT = 2**63 - 1


def int_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -_INT_LIMIT <= number <= _INT_LIMIT else None


def quantity_posted(request) -> int:
    """The quantity a product form posts (`qty`): 1 when the form has no such field, else
    the whole number typed. Anything else ("0", "abc", "2.5", "", "-5") reads as 0, which the
    service refuses like any quantity below 1 — never quietly as 1."""
    raw = request.POST.get("qty")
    if raw is None:
        return 1
    return int_or_none(raw.strip()) or 0
