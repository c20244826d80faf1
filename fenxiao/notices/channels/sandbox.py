"""Sandbox channels: they send nothing. The outbox row (who, what, when, how many tries) is
the whole record, shown under 消息 → 通知发送记录 in the backend.

They behave like a real provider where it matters to the mall: they run in the background
task, and with `NOTICE_SANDBOX_FAILURE_RATE` above 0 they refuse that share of sends, so the
retry path can be seen working in a demo.
"""

import random

from django.conf import settings

from .base import ChannelAdapter, Notice, SendFailed


class _Sandbox(ChannelAdapter):
    name = "sandbox"
    is_sandbox = True

    def send(self, *, address: str, notice: Notice, reference: str) -> None:
        rate = settings.NOTICE_SANDBOX_FAILURE_RATE
        if rate and random.random() < rate:  # noqa: S311 - a demo's simulated outage
            raise SendFailed("沙箱模拟发送失败")


class SandboxSms(_Sandbox):
    label = "沙箱短信（不真实发送）"

    def address(self, user) -> str | None:
        return user.phone or None

    def render(self, notice: Notice) -> str:
        return f"【分销商城】{notice.title}：{notice.body}"


class SandboxWechat(_Sandbox):
    label = "沙箱微信模板消息（不真实发送）"

    def address(self, user) -> str | None:
        # The real adapter (`wechat_mp`) reaches only buyers with a 微信身份; the sandbox
        # addresses every account, so a demo shows each notice it would send.
        return f"sandbox-openid-{user.pk}"

    def render(self, notice: Notice) -> str:
        return f"{notice.title}\n{notice.body}" + (f"\n详情：{notice.link}" if notice.link else "")
