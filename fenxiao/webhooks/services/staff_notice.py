"""Telling the merchant's staff that an endpoint was disabled: an in-site message to every
active superuser and 运营 (operations) member."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

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


def endpoint_disabled(endpoint, *, reason: str, at) -> int:
    link = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    stamp = at.strftime("%Y%m%d%H%M%S")
    return notify_many(
        Kind.WEBHOOK_DISABLED,
        (
            Draft(
                user_id,
                "Webhook 推送地址已停用",
                f"推送地址 {endpoint.url[:200]} {reason}。请检查接收服务后在后台重新启用。",
                f"webhook-disabled:{endpoint.pk}:{stamp}:{user_id}",
                link,
                "webhook_endpoint",
                endpoint.pk,
            )
            for user_id in recipients().iterator()
        ),
    )
