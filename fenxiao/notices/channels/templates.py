"""Notices as approved templates. WeChat template messages and Chinese SMS carry only
templates the merchant has had approved, each with named fields. `NOTICE_TEMPLATES` (in
settings) names, per channel and notice kind, the template and what fills each of its
fields, from what every notice has:

    {"wechat": {"order_shipped": {"template": "Xq3…", "fields": {"thing1": "title", "thing2": "body",
                                                                 "time3": "time"}}},
     "sms": {"order_shipped": {"template": "SMS_46…", "fields": {"title": "title", "body": "body"}}}}

A kind without a template is not sent on that channel (the in-site message still is).
"""

from django.conf import settings
from django.utils import timezone, translation

from .base import Notice

SOURCES = {
    "title": "the notice's title",
    "body": "its text",
    "time": "when it happened (YYYY-MM-DD HH:MM, China time)",
    "kind": "its type (e.g. 订单发货)",
    "link": "the in-site path it links to",
}


def template_for(channel: str, kind: str) -> dict | None:
    entry = (settings.NOTICE_TEMPLATES.get(channel) or {}).get(kind)
    return entry if entry and entry.get("template") else None


def problems(channel: str) -> list[str]:
    """What is wrong with the channel's templates, in plain words (empty when fine)."""
    from ..models import Kind

    found = []
    for kind, entry in (settings.NOTICE_TEMPLATES.get(channel) or {}).items():
        if kind not in Kind.values:
            found.append(f"NOTICE_TEMPLATES[{channel!r}] names an unknown notice kind {kind!r}")
            continue
        if not (isinstance(entry, dict) and entry.get("template") and isinstance(entry.get("fields"), dict)):
            found.append(f"NOTICE_TEMPLATES[{channel!r}][{kind!r}] needs a template and its fields")
            continue
        for field, source in entry["fields"].items():
            if source not in SOURCES:
                found.append(
                    f"NOTICE_TEMPLATES[{channel!r}][{kind!r}] fills {field!r} from {source!r}; "
                    f"use one of {', '.join(SOURCES)}"
                )
    return found


def source_value(notice: Notice, source: str) -> str:
    if source == "time":
        moment = notice.created_at or timezone.now()
        return timezone.localtime(moment, timezone.get_fixed_timezone(480)).strftime("%Y-%m-%d %H:%M")
    if source == "kind":
        from ..models import Kind

        if notice.kind not in Kind.values:
            return notice.kind
        # What is sent stays in Chinese, whatever language the request that sends it speaks.
        with translation.override(settings.LANGUAGE_CODE):
            return str(Kind(notice.kind).label)
    return {"title": notice.title, "body": notice.body, "link": notice.link}.get(source, "")


def clip(value: str, limit: int) -> str:
    """At most `limit` characters: providers refuse a longer field rather than cut it."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
