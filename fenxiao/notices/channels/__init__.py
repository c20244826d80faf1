"""Notification channels. The mall reaches a user outside the site only through a
`ChannelAdapter`; which adapter serves a channel is `NOTICE_CHANNEL_ADAPTERS`, which
channels an event uses is `NOTICE_EVENT_CHANNELS` (both in settings)."""

from django.conf import settings

from .base import ChannelAdapter, Notice, SendFailed

__all__ = ["ChannelAdapter", "Notice", "SendFailed", "adapter_for", "channels_for"]

# Adapters that send nothing, and so are never enabled in production.
DEMO_ONLY = {"sandbox"}


def _registry() -> dict[tuple[str, str], type[ChannelAdapter]]:
    from .aliyun_sms import AliyunSmsNotices
    from .sandbox import SandboxSms, SandboxWechat
    from .tencent_sms import TencentSmsNotices
    from .wechat_mp import WechatTemplateMessages

    return {
        ("sms", "sandbox"): SandboxSms,
        ("wechat", "sandbox"): SandboxWechat,
        ("sms", AliyunSmsNotices.name): AliyunSmsNotices,
        ("sms", TencentSmsNotices.name): TencentSmsNotices,
        ("wechat", WechatTemplateMessages.name): WechatTemplateMessages,
    }


def _sandbox_enabled() -> bool:
    return settings.DEMO_MODE or settings.DEBUG


def adapter_name(channel: str) -> str | None:
    """The adapter configured for `channel`, or None when the channel is off."""
    name = settings.NOTICE_CHANNEL_ADAPTERS.get(channel) or None
    if name is None or (channel, name) not in _registry():
        return None
    if name in DEMO_ONLY and not _sandbox_enabled():
        return None
    return name


def channels_for(kind: str, wanted: list[str] | None = None) -> list[tuple[str, str]]:
    """(channel, adapter) for each external channel event `kind` goes out on (no query):
    the settings' channels for the kind, or `wanted` (a push chooses its own), each only
    when an adapter is set up that can carry the kind."""
    if wanted is None:
        wanted = settings.NOTICE_EVENT_CHANNELS.get(kind, settings.NOTICE_EVENT_CHANNELS.get("*", []))
    registry = _registry()
    return [
        (channel, name)
        for channel in wanted
        if (name := adapter_name(channel)) and registry[(channel, name)].serves(kind)
    ]


def adapter_for(channel: str, name: str) -> ChannelAdapter:
    """The adapter a queued row was written for. SendFailed when it is no longer set up
    (the row is retried, and fails once its attempts are used up)."""
    if adapter_name(channel) != name:
        raise SendFailed(f"通知通道 {channel}/{name} 未启用")
    return _registry()[(channel, name)]()
