"""System checks: the SMS gateway's keys and templates."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def sms_gateway_configured(app_configs, **kwargs):
    """Without its keys and templates the SMS gateway fails every registration code."""
    if settings.SMS_GATEWAY != "aliyun":
        return []
    from .sms import aliyun

    return [
        Error(problem, hint="See SMS_ALIYUN in settings.py.", id="fenxiao.E012")
        for problem in aliyun.problems()
    ]
