"""The home page's shop window, rendered once and served again for a few seconds.

The window (banners, categories, the flash block, recommended products) is the same for
every visitor, and it is the page a crowd opens at once when a flash sale starts. Each web
process keeps one rendered copy per language for `STOREFRONT_WINDOW_SECONDS`, and never past
the next moment one of its flash offers is announced, starts or closes, so prices and
countdowns turn on time. Other changes (a product listed, a banner, stock sold) show within
that interval, as behind any CDN; the product page and checkout always read live. With 0
every request renders it (the test suite)."""

import threading
from collections.abc import Callable
from datetime import datetime
from time import monotonic

from django.conf import settings
from django.utils import timezone, translation

from fenxiao.promotions.services import offers

_copies: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def shop_window(render: Callable[[datetime], str]) -> str:
    """The window as `render(now)` makes it: this process's copy while it is good."""
    seconds = settings.STOREFRONT_WINDOW_SECONDS
    if not seconds:
        return render(timezone.now())
    language = translation.get_language()
    copy = _copies.get(language)
    if copy is not None and monotonic() < copy[0]:
        return copy[1]
    # One thread of the process renders; the others wait for its copy instead of rendering too.
    with _lock:
        copy = _copies.get(language)
        if copy is not None and monotonic() < copy[0]:
            return copy[1]
        started = monotonic()
        now = timezone.now()
        change = offers.next_window_change(now)
        html = render(now)
        if change is not None:
            seconds = min(seconds, (change - now).total_seconds())
        _copies[language] = (started + seconds, html)
    return html


def forget() -> None:
    """Drop this process's copies (the next request renders afresh)."""
    _copies.clear()
