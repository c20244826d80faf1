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
    "needs_payer_id",
]


def _registry() -> dict[str, type[PaymentGateway]]:
    from .alipay import AlipayGateway
    from .sandbox import SandboxGateway
    from .wechatpay import WechatPayGateway, WechatPayJsapiGateway

    return {
        gateway.name: gateway
        for gateway in (SandboxGateway, WechatPayGateway, WechatPayJsapiGateway, AlipayGateway)
    }


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


def gateway_choices(*, in_wechat: bool | None = None) -> list[tuple[str, str]]:
    """(name, label) of each gateway a buyer may pay with, in the configured order. Given
    where the buyer is (`in_wechat`), only those that work there: inside WeChat its in-app
    payment replaces scanning a code, when both are enabled."""
    registry = _registry()
    names = enabled_gateways()
    if in_wechat is not None:
        names = [n for n in names if registry[n].in_wechat in (None, in_wechat)]
        if in_wechat and "wechatpay_jsapi" in names:
            names = [n for n in names if n != "wechatpay"]
    return [(name, str(registry[name].label)) for name in names]


def needs_payer_id(name: str) -> bool:
    gateway = _registry().get(name)
    return bool(gateway and gateway.needs_payer_id)


def get_gateway(name: str) -> PaymentGateway:
    if name not in enabled_gateways():
        raise GatewayUnavailable()
    return _registry()[name]()
