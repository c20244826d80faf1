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
]


def _registry() -> dict[str, type[PaymentGateway]]:
    from .sandbox import SandboxGateway

    return {SandboxGateway.name: SandboxGateway}


def enabled_gateways() -> list[str]:
    return [name for name in settings.PAYMENT_GATEWAYS if name in _registry()]


def get_gateway(name: str) -> PaymentGateway:
    if name not in enabled_gateways():
        raise GatewayUnavailable()
    return _registry()[name]()
