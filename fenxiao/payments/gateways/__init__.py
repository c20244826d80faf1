"""Payment gateway adapters. The mall talks to every gateway through `PaymentGateway`."""

from django.conf import settings

from ..errors import GatewayUnavailable
from .base import (
    GatewayNotification,
    PaymentGateway,
    PaymentIntent,
    RefundResult,
    TradeState,
)

__all__ = [
    "GatewayNotification",
    "PaymentGateway",
    "PaymentIntent",
    "RefundResult",
    "TradeState",
    "get_gateway",
    "enabled_gateways",
    "gateway_choices",
]


def _registry() -> dict[str, type[PaymentGateway]]:
    from .sandbox import SandboxGateway
    from .wechatpay import WechatPayGateway

    return {SandboxGateway.name: SandboxGateway, WechatPayGateway.name: WechatPayGateway}


# Gateways that move no real money, and so are never enabled in production.
DEMO_ONLY = {"sandbox"}


def sandbox_enabled() -> bool:
    """The sandbox marks orders paid without money: a demo or a developer's machine only."""
    return settings.DEMO_MODE or settings.DEBUG


def enabled_gateways() -> list[str]:
    registry = _registry()
    return [
        name
        for name in settings.PAYMENT_GATEWAYS
        if name in registry and (name not in DEMO_ONLY or sandbox_enabled())
    ]


def gateway_choices() -> list[tuple[str, str]]:
    """(name, label) of each gateway a buyer may pay with, in the configured order."""
    registry = _registry()
    return [(name, registry[name].label) for name in enabled_gateways()]


def get_gateway(name: str) -> PaymentGateway:
    if name not in enabled_gateways():
        raise GatewayUnavailable()
    return _registry()[name]()
