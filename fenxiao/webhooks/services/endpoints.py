"""Registering, editing and switching endpoints (the backend's forms call these)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import EndpointInvalid
from ..models import DISABLED_BY_HAND, SUBSCRIBABLE, Endpoint, new_secret
from .transport import check_url

EVENT_VALUES = {value for value, _ in SUBSCRIBABLE}


def clean(url: str, events) -> tuple[str, list[str]]:
    url = (url or "").strip()
    check_url(url)
    events = [e for e in (events or []) if e]
    unknown = [e for e in events if e not in EVENT_VALUES]
    if unknown:
        raise EndpointInvalid(
            _("不支持的事件：%(events)s") % {"events": _("、").join(unknown)}, code="WEBHOOK_EVENT_UNKNOWN"
        )
    if not events:
        raise EndpointInvalid(_("请至少选择一个事件"), code="WEBHOOK_NO_EVENTS")
    return url, sorted(set(events))


@transaction.atomic
def save(endpoint: Endpoint, staff=None, *, was_active: bool | None = None) -> Endpoint:
    """Save an endpoint as staff edited it. Enabling it again starts a fresh failure clock."""
    endpoint.url, endpoint.events = clean(endpoint.url, endpoint.events)
    if endpoint.pk is None:
        endpoint.created_by = staff if getattr(staff, "pk", None) else None
    if endpoint.is_active and was_active is False:
        endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since = "", None, None
    elif not endpoint.is_active and was_active is not False:
        endpoint.disabled_reason = endpoint.disabled_reason or DISABLED_BY_HAND
        endpoint.disabled_at = timezone.now()
    endpoint.save()
    return endpoint


def rotate_secret(endpoint: Endpoint) -> Endpoint:
    """A new signing secret, at once: the receiver must switch to it."""
    endpoint.secret = new_secret()
    Endpoint.objects.filter(pk=endpoint.pk).update(secret=endpoint.secret)
    return endpoint
