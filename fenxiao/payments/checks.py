"""System checks: a payment gateway that is listed but cannot sign or verify."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def payment_gateways_configured(app_configs, **kwargs):
    """A listed gateway that cannot sign or verify would fail every buyer at the cashier."""
    listed = set(settings.PAYMENT_GATEWAYS)
    # Native, JSAPI, H5 and the mini-program's are one merchant account's products: all
    # need WECHATPAY.
    wechat = {"wechatpay", "wechatpay_jsapi", "wechatpay_h5", "wechatpay_miniprogram"} & listed
    errors = []
    if wechat:
        from .gateways import wechatpay_client

        errors += [
            Error(
                problem,
                hint="See WECHATPAY in settings.py for where each value comes from.",
                id="fenxiao.E010",
            )
            for problem in wechatpay_client.problems()
        ]
    if "wechatpay_jsapi" in wechat and not settings.WECHAT_MP.get("SECRET"):
        errors.append(
            Error(
                "wechatpay_jsapi needs WECHAT_MP_SECRET, the AppSecret of the 公众号 WECHATPAY_APPID "
                "names, to learn each buyer's openid.",
                id="fenxiao.E010",
            )
        )
    if "wechatpay_miniprogram" in wechat:
        miniprogram = getattr(settings, "WECHAT_MINIPROGRAM", {}) or {}
        errors += [
            Error(
                f"wechatpay_miniprogram needs WECHAT_MINIPROGRAM[{key!r}], the mini-program's "
                f"{what}, to sign buyers in and open trades for them.",
                hint="The mini-program must also be bound to WECHATPAY_MCHID on the merchant platform.",
                id="fenxiao.E010",
            )
            for key, what in (("APPID", "AppID"), ("SECRET", "AppSecret"))
            if not miniprogram.get(key)
        ]
    if "alipay" in listed:
        from .gateways import alipay_client

        errors += [
            Error(problem, hint="See ALIPAY in settings.py.", id="fenxiao.E010")
            for problem in alipay_client.problems()
        ]
    if (
        (wechat or "alipay" in listed)
        and settings.PRODUCTION
        and not settings.SITE_URL.startswith("https://")
    ):
        errors.append(
            Error(
                "Payment gateways notify SITE_URL, which must be an https address.",
                hint="Set SITE_URL to the mall's public https address.",
                id="fenxiao.E011",
            )
        )
    return errors
