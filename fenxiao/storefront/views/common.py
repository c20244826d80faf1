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
