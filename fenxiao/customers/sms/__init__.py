"""SMS gateway adapters. The mall sends text messages only through `SmsGateway`."""

from django.conf import settings

from ..errors import SmsUnavailable
from .base import SmsGateway, SmsSendFailed

__all__ = ["SmsGateway", "SmsSendFailed", "get_sms_gateway", "sms_gateway_name"]


def _registry() -> dict[str, type[SmsGateway]]:
    from .aliyun import AliyunSmsGateway
    from .sandbox import SandboxSmsGateway
    from .tencent import TencentSmsGateway

    return {
        SandboxSmsGateway.name: SandboxSmsGateway,
        AliyunSmsGateway.name: AliyunSmsGateway,
        TencentSmsGateway.name: TencentSmsGateway,
    }


# Gateways that send no real messages, and so are never enabled in production.
DEMO_ONLY = {"sandbox"}


def sandbox_enabled() -> bool:
    return settings.DEMO_MODE or settings.DEBUG


def sms_gateway_name() -> str | None:
    name = settings.SMS_GATEWAY
    if name not in _registry() or (name in DEMO_ONLY and not sandbox_enabled()):
        return None
    return name


def get_sms_gateway(name: str | None = None) -> SmsGateway:
    """The configured gateway (or the named one, for a queued message); SmsUnavailable when
    there is none, e.g. in production before a real gateway is set up."""
    enabled = sms_gateway_name()
    if enabled is None or (name is not None and name != enabled):
        raise SmsUnavailable()
    return _registry()[enabled]()
