"""Telling the merchant's staff that an endpoint was disabled: an in-site message to every
active superuser and 运营 (operations) member."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_noop

from fenxiao.notices.models import Kind
from fenxiao.notices.services.inbox import Draft, notify_many

OPERATIONS = "运营"


def recipients():
    users = get_user_model().objects.filter(is_active=True)
    return (
        users.filter(Q(is_superuser=True) | Q(groups__name=OPERATIONS))
        .distinct()
        .values_list("pk", flat=True)
    )


# The message is kept in Chinese with its template and arguments, so each recipient reads
# it in their own language (`Message.title_text` / `body_text`).
TITLE = gettext_noop("Webhook 推送地址已停用")
BODY = gettext_noop("推送地址 %(url)s %(reason)s。请检查接收服务后在后台重新启用。")


def endpoint_disabled(endpoint, *, reason: str, at) -> int:
    link = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    stamp = at.strftime("%Y%m%d%H%M%S")
    args = {"url": endpoint.url[:200], "reason": {"text": reason}}
    return notify_many(
        Kind.WEBHOOK_DISABLED,
        (
            Draft.templated(
                user_id,
                TITLE,
                BODY,
                args,
                f"webhook-disabled:{endpoint.pk}:{stamp}:{user_id}",
                link,
                "webhook_endpoint",
                endpoint.pk,
            )
            for user_id in recipients().iterator()
        ),
    )
