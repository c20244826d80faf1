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
    "is_phone",
    "needs_payer_id",
]


def _registry() -> dict[str, type[PaymentGateway]]:
    from .alipay import AlipayGateway
    from .sandbox import SandboxGateway
    from .wechatpay import WechatPayGateway, WechatPayH5Gateway, WechatPayJsapiGateway
    from .wechatpay_miniprogram import WechatPayMiniProgramGateway

    return {
        gateway.name: gateway
        for gateway in (
            SandboxGateway,
            WechatPayGateway,
            WechatPayJsapiGateway,
            WechatPayH5Gateway,
            WechatPayMiniProgramGateway,
            AlipayGateway,
        )
    }


# Gateways that move no real money, and so are never enabled in production.
DEMO_ONLY = {"sandbox"}

# What a phone's or tablet's browser puts in its User-Agent: "Mobile" (Safari on iPhone,
# Chrome on Android phones, HarmonyOS, most in-app browsers), "Android" (tablets too, which
# leave "Mobile" out), "iPhone" / "iPad" / "iPod" (apps' web views), "OpenHarmony". A
# deliberately simple test: a miss only means the buyer is shown the QR code (which they
# can still long-press or save), never a payment they cannot make. iPadOS Safari presents
# itself as a Mac, and is treated as a computer.
PHONE_MARKERS = ("Mobile", "Android", "iPhone", "iPad", "iPod", "OpenHarmony")


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


def is_phone(user_agent: str) -> bool:
    """Whether a browser is on a phone or tablet, by its User-Agent (see PHONE_MARKERS)."""
    return any(marker in user_agent for marker in PHONE_MARKERS)


def gateway_choices(*, in_wechat: bool | None = None, mobile: bool | None = None) -> list[tuple[str, str]]:
    """(name, label) of each gateway a buyer may pay with on a web page, in the configured
    order. Given where the buyer is (`in_wechat`, and `mobile`: a phone or tablet, see
    `is_phone`), only those that work there, and one WeChat Pay at most when several are
    enabled: inside WeChat its in-app payment replaces scanning a code; on a phone outside
    WeChat, H5 (which opens the WeChat app) replaces a code the phone itself would have to
    scan; on a computer the code stays. Gateways paid only inside an app (the mini-program's)
    are never listed: a browser cannot pay with them."""
    registry = _registry()
    names = [n for n in enabled_gateways() if not registry[n].app_only]
    if in_wechat is not None:
        names = [n for n in names if registry[n].in_wechat in (None, in_wechat)]
        if in_wechat and "wechatpay_jsapi" in names:
            names = [n for n in names if n != "wechatpay"]
    if mobile is not None:
        names = [n for n in names if registry[n].on_phone in (None, mobile)]
        if mobile and "wechatpay_h5" in names:
            names = [n for n in names if n != "wechatpay"]
    return [(name, str(registry[name].label)) for name in names]


def gateway_label(name: str) -> str:
    """A stored gateway name as staff read it (沙箱支付, 微信支付); one since removed as is."""
    gateway = _registry().get(name)
    return str(gateway.label) if gateway else name


def needs_payer_id(name: str) -> bool:
    gateway = _registry().get(name)
    return bool(gateway and gateway.needs_payer_id)


def get_gateway(name: str) -> PaymentGateway:
    if name not in enabled_gateways():
        raise GatewayUnavailable()
    return _registry()[name]()
