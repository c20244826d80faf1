"""Notices by Tencent Cloud SMS: one approved template per notice kind
(`NOTICE_TEMPLATES["sms"]`), under the signature, 短信应用 and SecretId of the SMS gateway
(`SMS_TENCENT`).

Tencent templates are positional ({1}, {2} …), so a template's fields are named by their
number, each filled from the notice like any template field:

    {"sms": {"order_shipped": {"template": "1400123", "fields": {"1": "title", "2": "body"}}}}

The names must be 1, 2 … n with none missing (`problems`, run by the system check); they
are sent in that order.
"""

from django.conf import settings

from fenxiao.customers.sms import SmsSendFailed, tencent

from .base import ChannelAdapter, Notice, SendFailed
from .templates import clip, source_value, template_for

# What Tencent allows a template variable of an account verified as a person; an
# enterprise account may set SMS_TENCENT_VARIABLE_LIMIT higher (0: no cut).
DEFAULT_VARIABLE_LIMIT = 12


def problems() -> list[str]:
    """Templates whose field names are not the positions 1 … n (empty when all are)."""
    found = []
    for kind, entry in (settings.NOTICE_TEMPLATES.get("sms") or {}).items():
        fields = entry.get("fields") if isinstance(entry, dict) else None
        if not isinstance(fields, dict):
            continue  # templates.problems names a template without fields
        if set(fields) != {str(n) for n in range(1, len(fields) + 1)}:
            found.append(
                f"NOTICE_TEMPLATES['sms'][{kind!r}] names its fields {', '.join(map(repr, fields))}; "
                "Tencent SMS templates take them by position: name them '1', '2' … in order"
            )
    return found


def _limit() -> int:
    value = (getattr(settings, "SMS_TENCENT", {}) or {}).get("VARIABLE_LIMIT", DEFAULT_VARIABLE_LIMIT)
    return int(value or 0)


class TencentSmsNotices(ChannelAdapter):
    name = "tencent"
    label = "腾讯云短信"

    @classmethod
    def serves(cls, kind: str) -> bool:
        return template_for("sms", kind) is not None

    def address(self, user) -> str | None:
        return user.phone or None

    def _params(self, notice: Notice) -> tuple[str, list[str]]:
        entry = template_for("sms", notice.kind)
        if entry is None:
            raise SendFailed(f"未配置“{notice.kind}”的短信模板")
        fields = entry["fields"]
        if not all(str(name).isdigit() for name in fields):
            raise SendFailed(f"“{notice.kind}”的短信模板字段须按位置命名为 1、2……")
        limit = _limit()
        return entry["template"], [
            clip(source_value(notice, fields[name]), limit) if limit else source_value(notice, fields[name])
            for name in sorted(fields, key=int)
        ]

    def render(self, notice: Notice) -> str:
        template, params = self._params(notice)
        return f"[{template}] " + "；".join(f"{{{n}}}：{value}" for n, value in enumerate(params, 1))

    def send(self, *, address: str, notice: Notice, reference: str) -> None:
        template, params = self._params(notice)
        try:
            tencent.send_template(
                settings.SMS_TENCENT, phone=address, template_id=template, params=params, reference=reference
            )
        except SmsSendFailed as exc:
            raise SendFailed(str(exc), permanent=exc.permanent) from exc
