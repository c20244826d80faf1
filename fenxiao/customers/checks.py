"""System checks: the SMS gateway's keys and templates."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def sms_gateway_configured(app_configs, **kwargs):
    """Without its keys and templates the SMS gateway fails every registration code."""
    from .sms import aliyun, tencent

    # The real gateways, each with what it lacks and the settings block that holds it.
    gateways = {"aliyun": (aliyun.problems, "SMS_ALIYUN"), "tencent": (tencent.problems, "SMS_TENCENT")}
    if settings.SMS_GATEWAY not in gateways:
        return []
    problems, block = gateways[settings.SMS_GATEWAY]
    return [Error(problem, hint=f"See {block} in settings.py.", id="fenxiao.E012") for problem in problems()]
