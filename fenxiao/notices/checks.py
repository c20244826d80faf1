"""System checks: notice channels on template providers."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def notice_channels_configured(app_configs, **kwargs):
    """A notice channel on a template provider with nothing to send it with, or templates
    that name unknown kinds or fields, would fail every notice quietly."""
    from .channels import templates

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
    if adapters.get("sms") == "tencent":
        from fenxiao.customers.sms import tencent

        from .channels import tencent_sms

        # Notices need the account, not the verification-code templates.
        found += tencent.problems(with_templates=False)
        found += templates.problems("sms") + tencent_sms.problems()
    return [
        Error(problem, hint="See NOTICE_TEMPLATES in settings.py.", id="fenxiao.E013") for problem in found
    ]
