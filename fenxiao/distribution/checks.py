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
