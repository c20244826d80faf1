"""System checks: the tracking service's key."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def tracking_service_configured(app_configs, **kwargs):
    """Kuaidi100 refuses every subscription without the customer's key."""
    if settings.LOGISTICS_PROVIDER != "kuaidi100" or settings.KUAIDI100.get("KEY"):
        return []
    return [Error("LOGISTICS_PROVIDER=kuaidi100 needs KUAIDI100_KEY.", id="fenxiao.E014")]
