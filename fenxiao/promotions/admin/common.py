"""Pieces shared by the promotions backend pages."""

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html

from fenxiao.core.errors import DomainError


def badge(text, kind) -> str:
    return render_to_string("unfold/helpers/label.html", {"text": text, "type": kind})


def order_link(obj, links: bool) -> str:
    """`obj`'s order: its number, opening the order's page for staff who may see orders
    (`links`), as plain text for others; "-" when there is none."""
    if not obj.order_id:
        return "-"
    if not links:
        return obj.order.number
    url = reverse("admin:orders_order_change", args=[obj.order_id])
    return format_html('<a href="{}" class="text-primary-600">{}</a>', url, obj.order.number)


def link(url: str, text) -> str:
    return format_html('<a class="text-primary-600" href="{}">{}</a>', url, text)


def with_links(sentence: str, **links: str) -> str:
    """A translated sentence whose {name} places are links built with `link` (the
    sentence is escaped, the links are not)."""
    return format_html(conditional_escape(sentence), **links)


def local_time(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "-"


class _Rollback(Exception):
    pass


def refusal(call) -> str | None:
    """What a save service would refuse, with nothing kept: `call` runs inside a savepoint
    that is always rolled back (pass it copies, so the objects saved afterwards are
    untouched). Lets a form show the refusal next to its fields."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return None
    except DomainError as exc:
        return exc.message
