"""System checks: settings that would fail in production (several nodes, payment, SMS,
notice and tracking providers)."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def secrets_shared_by_every_node(app_configs, **kwargs):
    """With REDIS_URL set, web servers and consumers may run on several machines; a secret
    generated into one machine's var/secrets.json differs on the next, and sessions, CSRF
    tokens and sandbox signatures made on one node fail on another."""
    local = getattr(settings, "LOCAL_SECRETS", [])
    if not (settings.REDIS_URL and local):
        return []
    return [
        Warning(
            f"{', '.join(local)} generated in this machine's var/secrets.json while REDIS_URL is set.",
            hint="Several nodes need the same secrets: set them in every node's environment.",
            id="fenxiao.W001",
        )
    ]


@register()
def private_files_shared_with_media(app_configs, **kwargs):
    """Media on a shared store (several nodes) with the private store on this machine's disk:
    after-sale photos uploaded through one node could not be shown by another."""
    if not (settings.MEDIA_STORAGE and settings.STORAGES["private"]["BACKEND"].endswith("FileSystemStorage")):
        return []
    return [
        Warning(
            "MEDIA_STORAGE is a shared store but the private store (after-sale photos) is this "
            "machine's var/private/.",
            hint="With several nodes set PRIVATE_STORAGE (and PRIVATE_STORAGE_OPTIONS) to a shared "
            "store that is not public, before upgrading moves the photos there.",
            id="fenxiao.W002",
        )
    ]


@register()
def payment_gateways_configured(app_configs, **kwargs):
    """A listed gateway that cannot sign or verify would fail every buyer at the cashier."""
    listed = set(settings.PAYMENT_GATEWAYS)
    wechat = {"wechatpay", "wechatpay_jsapi"} & listed
    errors = []
    if wechat:
        from fenxiao.payments.gateways import wechatpay_client

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
    if "alipay" in listed:
        from fenxiao.payments.gateways import alipay_client

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


@register()
def sms_gateway_configured(app_configs, **kwargs):
    """Without its keys and templates the SMS gateway fails every registration code."""
    if settings.SMS_GATEWAY != "aliyun":
        return []
    from fenxiao.customers.sms import aliyun

    return [
        Error(problem, hint="See SMS_ALIYUN in settings.py.", id="fenxiao.E012")
        for problem in aliyun.problems()
    ]


@register()
def notice_channels_configured(app_configs, **kwargs):
    """A notice channel on a template provider with nothing to send it with, or templates
    that name unknown kinds or fields, would fail every notice quietly."""
    from fenxiao.notices.channels import templates

    adapters = settings.NOTICE_CHANNEL_ADAPTERS
    found = []
    if adapters.get("wechat") == "mp":
        if not (settings.WECHATPAY.get("APPID") and settings.WECHAT_MP.get("SECRET")):
            found.append("NOTICE_WECHAT_ADAPTER=mp needs WECHATPAY_APPID and WECHAT_MP_SECRET (the 公众号).")
        found += templates.problems("wechat")
    if adapters.get("sms") == "aliyun":
        from fenxiao.customers.sms import aliyun

        found += [p for p in aliyun.problems() if "TEMPLATE_" not in p]
        found += templates.problems("sms")
    return [
        Error(problem, hint="See NOTICE_TEMPLATES in settings.py.", id="fenxiao.E013") for problem in found
    ]


@register()
def tracking_service_configured(app_configs, **kwargs):
    """Kuaidi100 refuses every subscription without the customer's key."""
    if settings.LOGISTICS_PROVIDER != "kuaidi100" or settings.KUAIDI100.get("KEY"):
        return []
    return [Error("LOGISTICS_PROVIDER=kuaidi100 needs KUAIDI100_KEY.", id="fenxiao.E014")]
