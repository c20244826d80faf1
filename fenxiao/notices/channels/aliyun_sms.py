"""Notices by Aliyun SMS: one approved template per notice kind (`NOTICE_TEMPLATES["sms"]`),
its variables filled from the notice, under the signature and AccessKey of the SMS
gateway (`SMS_ALIYUN`)."""

from django.conf import settings

from fenxiao.customers.sms import SmsSendFailed, aliyun

from .base import ChannelAdapter, Notice, SendFailed
from .templates import clip, source_value, template_for

# Aliyun refuses a variable longer than this in a notification template.
VARIABLE_LIMIT = 35


class AliyunSmsNotices(ChannelAdapter):
    name = "aliyun"
    label = "阿里云短信"

    @classmethod
    def serves(cls, kind: str) -> bool:
        return template_for("sms", kind) is not None

    def address(self, user) -> str | None:
        return user.phone or None

    def _params(self, notice: Notice) -> tuple[str, dict[str, str]]:
        entry = template_for("sms", notice.kind)
        if entry is None:
            raise SendFailed(f"未配置“{notice.kind}”的短信模板")
        params = {
            name: clip(source_value(notice, source), VARIABLE_LIMIT)
            for name, source in entry["fields"].items()
        }
        return entry["template"], params

    def render(self, notice: Notice) -> str:
        template, params = self._params(notice)
        return f"[{template}] " + "；".join(f"{name}：{value}" for name, value in params.items())

    def send(self, *, address: str, notice: Notice, reference: str) -> None:
        template, params = self._params(notice)
        try:
            aliyun.send_template(
                settings.SMS_ALIYUN, phone=address, template_code=template, params=params, reference=reference
            )
        except SmsSendFailed as exc:
            raise SendFailed(str(exc), permanent=exc.permanent) from exc
