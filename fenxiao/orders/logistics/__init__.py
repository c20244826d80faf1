"""Tracking-service adapters (物流轨迹订阅). The mall talks to each through `TrackingProvider`."""

from django.conf import settings

from .base import SubscribeResult, TrackingLine, TrackingProvider, TrackingPush

__all__ = [
    "SubscribeResult",
    "TrackingLine",
    "TrackingProvider",
    "TrackingPush",
    "active_provider",
    "get_provider",
    "provider_choices",
    "provider_label",
]

# Providers that report journeys that never happened: a demo or a developer's machine only.
DEMO_ONLY = {"sandbox"}


def _registry() -> dict[str, type[TrackingProvider]]:
    from .kuaidi100 import Kuaidi100Tracking
    from .sandbox import SandboxTracking

    return {SandboxTracking.name: SandboxTracking, Kuaidi100Tracking.name: Kuaidi100Tracking}


def _enabled(name: str) -> bool:
    return name in _registry() and (name not in DEMO_ONLY or settings.DEMO_MODE or settings.DEBUG)


def get_provider(name: str) -> TrackingProvider | None:
    """The provider called `name`, or None when it is unknown or not enabled here."""
    return _registry()[name]() if _enabled(name) else None


def active_provider() -> TrackingProvider | None:
    """The provider new parcels subscribe with (`LOGISTICS_PROVIDER`), or None: then
    parcels ship without a trail."""
    return get_provider(getattr(settings, "LOGISTICS_PROVIDER", "sandbox") or "")


def provider_label(name: str) -> str:
    """What staff read for a provider's code: 模拟物流 for the test service, 快递100 …; the
    code itself for one this version does not know."""
    provider = _registry().get(name)
    return str(provider.label) if provider else name


def provider_choices() -> list[tuple[str, str]]:
    """(code, name) of every provider, for the backend's filter."""
    return [(name, str(provider.label)) for name, provider in _registry().items()]
