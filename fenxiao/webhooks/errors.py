"""Webhook errors: each a Chinese message with a code."""

from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class EndpointInvalid(DomainError):
    code = "WEBHOOK_ENDPOINT_INVALID"
    message = _("推送地址无效")


class EndpointRefused(DomainError):
    """The address points into a private network (refused in production)."""

    code = "WEBHOOK_URL_REFUSED"
    message = _("推送地址指向内网或保留地址，已拒绝")


class EndpointInactive(DomainError):
    code = "WEBHOOK_ENDPOINT_INACTIVE"
    message = _("该推送地址已停用，请先启用")
