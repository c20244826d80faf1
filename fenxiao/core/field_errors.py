"""What a malformed request field is told, in the caller's language. pydantic words its
refusals in English ("Field required", "Extra inputs are not permitted", "Input should be
a valid integer"); the API's `details` name each field with these instead, so a
mini-program can show them as they are. A refusal worded by our own validators (already
translated) is kept; anything unforeseen falls back to pydantic's text."""

from django.utils.translation import gettext as _

_INTEGER = {"int_parsing", "int_type", "int_from_float", "int_parsing_size"}
_NUMBER = {"float_parsing", "float_type", "decimal_parsing", "decimal_type"}
_OBJECT = {"dict_type", "model_type", "model_attributes_type"}
_DATE = {"date_parsing", "date_type", "date_from_datetime_parsing", "date_from_datetime_inexact"}
_TIME = {"datetime_parsing", "datetime_type", "datetime_from_date_parsing"}


def _typed(kind: str) -> str | None:
    if kind in _INTEGER:
        return _("须为整数")
    if kind in _NUMBER:
        return _("须为数字")
    if kind in _OBJECT:
        return _("须为对象")
    if kind in _DATE:
        return _("须为日期（YYYY-MM-DD）")
    if kind in _TIME:
        return _("须为时间（如 2026-12-01T10:00:00+08:00）")
    return {
        "missing": _("必填"),
        "extra_forbidden": _("不接受此字段"),
        "string_type": _("须为文字"),
        "bool_parsing": _("须为 true 或 false"),
        "bool_type": _("须为 true 或 false"),
        "list_type": _("须为列表"),
        "json_invalid": _("不是有效的 JSON"),
        "url_parsing": _("须为网址"),
        "url_type": _("须为网址"),
    }.get(kind)


def _bounded(kind: str, ctx: dict) -> str | None:
    words = {
        "greater_than_equal": (_("不能小于 %(limit)s"), "ge"),
        "greater_than": (_("须大于 %(limit)s"), "gt"),
        "less_than_equal": (_("不能大于 %(limit)s"), "le"),
        "less_than": (_("须小于 %(limit)s"), "lt"),
        "string_too_long": (_("最多 %(limit)s 个字"), "max_length"),
        "string_too_short": (_("至少 %(limit)s 个字"), "min_length"),
        "too_long": (_("最多 %(limit)s 项"), "max_length"),
        "too_short": (_("至少 %(limit)s 项"), "min_length"),
    }
    if kind not in words or words[kind][1] not in ctx:
        return None
    text, key = words[kind]
    return text % {"limit": ctx[key]}


def field_error(err: dict) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and ctx.get("error"):
        return str(ctx["error"])  # our own validator's words
    if kind in ("literal_error", "enum") and ctx.get("expected"):
        return _("取值无效（可选：%(expected)s）") % {"expected": ctx["expected"]}
    return _typed(kind) or _bounded(kind, ctx) or str(err.get("msg", ""))
