"""System checks for the distribution settings read from the environment."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def payout_adapters_exist(app_configs, **kwargs):
    """A mistyped payout adapter would quietly leave WeChat / Alipay withdrawals to be paid
    by hand (as no adapter does): refuse to start instead."""
    from .payouts import adapter_names

    known = adapter_names()
    return [
        Error(
            f"PAYOUT_{method.upper()}_ADAPTER={name!r} is not a payout adapter.",
            hint=f"Known adapters: {', '.join(sorted(known))}; leave it empty to pay by hand.",
            id="fenxiao.E001",
        )
        for method, name in sorted(settings.PAYOUT_ADAPTERS.items())
        if name and name not in known
    ]


@register()
def payout_adapters_configured(app_configs, **kwargs):
    """A real payout adapter that cannot sign would leave every approved withdrawal waiting
    on an error: say what is missing at start-up instead."""
    from fenxiao.payments.gateways import alipay_client, wechatpay_client

    chosen = set(settings.PAYOUT_ADAPTERS.values())
    errors = []
    if "wechatpay" in chosen:
        errors += [
            Error(problem, hint="See WECHATPAY in settings.py.", id="fenxiao.E002")
            for problem in wechatpay_client.problems()
        ]
        if not settings.WECHAT_MP.get("SECRET"):
            errors.append(
                Error(
                    "PAYOUT_WECHAT_ADAPTER=wechatpay needs WECHAT_MP_SECRET, the AppSecret of the 公众号 "
                    "WECHATPAY_APPID names, to learn each distributor's openid.",
                    id="fenxiao.E002",
                )
            )
    if "alipay" in chosen:
        errors += [
            Error(problem, hint="See ALIPAY in settings.py.", id="fenxiao.E002")
            for problem in alipay_client.problems()
        ]
        if not alipay_client.config().get("APP_CERT_FILE"):
            errors.append(
                Error(
                    "PAYOUT_ALIPAY_ADAPTER=alipay needs 公钥证书 mode: Alipay accepts transfers only from "
                    "apps that sign with certificates.",
                    hint="Set ALIPAY_APP_CERT_FILE, ALIPAY_ALIPAY_CERT_FILE and ALIPAY_ROOT_CERT_FILE.",
                    id="fenxiao.E002",
                )
            )
    return errors
