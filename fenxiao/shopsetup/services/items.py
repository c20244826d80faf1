"""The kinds of step a template is made of. Each reads its current value, says what it would
set, and writes it through the owning app's service (so the guard, versioning and logs of
that app still apply).

Every kind is tolerant: a setting on a model or a service function that does not exist on
this installation yields an "unavailable" row instead of an error, so a template can name a
feature another app adds later and starts applying it the day that app is installed.
"""

import importlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import format_fen

# Plan row statuses: what applying will do with the row.
CHANGE = "change"  # untouched by the merchant: will be set
CREATE = "create"  # does not exist yet: will be created
SAME = "same"  # already the template's value: nothing to do
CONFLICT = "conflict"  # the merchant changed it: kept unless confirmed
FORCED = "forced"  # the merchant changed it and confirmed the override: will be set
INFO = "info"  # a readiness note, nothing to write
UNAVAILABLE = "unavailable"  # the feature is not installed here

STATUS_TEXT = {
    CHANGE: gettext_lazy("将修改"),
    CREATE: gettext_lazy("将新建"),
    SAME: gettext_lazy("已是目标值"),
    CONFLICT: gettext_lazy("商家已修改，跳过"),
    FORCED: gettext_lazy("将覆盖商家修改"),
    INFO: gettext_lazy("提示"),
    UNAVAILABLE: gettext_lazy("功能未安装"),
}
WRITES = {CHANGE, CREATE, FORCED}


@dataclass
class Row:
    key: str
    label: str
    current: Any
    new: Any
    status: str
    current_text: str = ""
    new_text: str = ""
    note: str = ""
    item: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        # Texts are translated when the plan is built (the log is built in Chinese, see
        # `plan.apply`): plain strings, so the row can be logged as JSON.
        self.label, self.note = str(self.label), str(self.note)
        self.current_text, self.new_text = str(self.current_text), str(self.new_text)

    @property
    def status_text(self) -> str:
        return str(STATUS_TEXT[self.status])

    @property
    def writes(self) -> bool:
        return self.status in WRITES

    def as_log(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "old": self.current,
            "new": self.new,
            "old_text": self.current_text,
            "new_text": self.new_text,
            "status": self.status,
            "note": self.note,
        }


# --- value display ----------------------------------------------------------------------------


def fmt_bp(v) -> str:
    return "—" if v is None else f"{v / 100:g}%"


def fmt_fen(v) -> str:
    return "—" if v is None else format_fen(v)


def fmt_plain(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return _("是") if v else _("否")
    if isinstance(v, list):
        return _("、").join(str(x) for x in v) or "—"
    return str(v)


_STORAGE_UNIT = re.compile(r"\s*[（(](?:基点|分|bp|fen|basis points)[)）]$")


def _label(model_field, fmt) -> str:
    """The field's name without its storage unit when the value is shown as % or ¥."""
    text = str(model_field.verbose_name)
    if fmt in (fmt_bp, fmt_fen):
        # The unit closes the name in brackets, in any language: "（基点）", " (bp)".
        text = _STORAGE_UNIT.sub("", text)
    return text


def _display(model_field, value, fmt) -> str:
    if fmt:
        return fmt(value)
    choices = dict(getattr(model_field, "choices", None) or [])
    if value in choices:
        return str(choices[value])
    return fmt_plain(value)


def decide(key: str, current, new, default, baseline: dict, confirmed) -> str:
    """Untouched → set; changed by the merchant → conflict unless confirmed. "Untouched"
    means still what the last template set, or, if no template ever set it, the default."""
    if current == new:
        return SAME
    untouched = current == baseline.get(key, default)
    if untouched:
        return CHANGE
    return FORCED if (confirmed is True or key in (confirmed or ())) else CONFLICT


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def singleton(model, *, create: bool = False):
    """The one record of a settings model (the lowest pk, as the apps' own `current()`)."""
    obj = model.objects.order_by("pk").first()
    if obj is None and create:
        obj, _ = model.objects.get_or_create(pk=1)
    return obj


# --- kinds ----------------------------------------------------------------------------------


@dataclass
class Setting:
    """One field of a one-record settings model, e.g. ("distribution.DistributionSettings",
    "levels", 1). Written in one call per model (see `write_settings`)."""

    model: str
    name: str
    value: Any
    label: str = ""
    fmt: Any = None

    @property
    def key(self) -> str:
        return f"{self.model}.{self.name}"

    def rows(self, baseline, confirmed) -> list[Row]:
        model = _model(self.model)
        try:
            mfield = model._meta.get_field(self.name) if model else None
        except FieldDoesNotExist:
            mfield = None
        label = self.label or (_label(mfield, self.fmt) if mfield else self.name)
        if mfield is None:
            return [
                Row(self.key, label, None, self.value, UNAVAILABLE, "—", fmt_plain(self.value), item=self)
            ]
        default = mfield.get_default()
        obj = singleton(model)
        current = getattr(obj, self.name) if obj is not None else default
        status = decide(self.key, current, self.value, default, baseline, confirmed)
        return [
            Row(
                self.key,
                _("%(model)s：%(field)s") % {"model": model._meta.verbose_name, "field": label},
                current,
                self.value,
                status,
                _display(mfield, current, self.fmt),
                _display(mfield, self.value, self.fmt),
                item=self,
            )
        ]


def write_settings(rows: list[Row], staff) -> None:
    """All settings rows of one model in one save. Distribution settings go through their
    service: it validates the guard, bumps the version and logs the change."""
    by_model: dict[str, dict] = {}
    for row in rows:
        by_model.setdefault(row.item.model, {})[row.item.name] = row.new
    for label, changes in by_model.items():
        if label == "distribution.DistributionSettings":
            from fenxiao.distribution.services import config

            config.update_settings(staff, **changes)
            continue
        model = _model(label)
        obj = singleton(model, create=True)
        for name, value in changes.items():
            setattr(obj, name, value)
        obj.full_clean()
        obj.save()


GRADE_FEN_FIELDS = {"min_own_sales", "min_single_order", "min_team_sales", "min_settled_commission"}


@dataclass
class Grade:
    """A distributor grade by its natural key, the name. Missing → created with every field;
    present → each field compared like a setting (a merchant's own rate is a conflict)."""

    name: str
    fields: dict

    @property
    def key(self) -> str:
        return f"grade:{self.name}"

    def rows(self, baseline, confirmed) -> list[Row]:
        from fenxiao.distribution.models import DistributorGrade

        grade = DistributorGrade.objects.filter(name=self.name).first()
        out = []
        for name, value in self.fields.items():
            mfield = DistributorGrade._meta.get_field(name)
            fmt = fmt_bp if name.endswith("_bp") else fmt_fen if name in GRADE_FEN_FIELDS else None
            key = f"{self.key}.{name}"
            label = _("分销等级“%(grade)s”：%(field)s") % {"grade": self.name, "field": _label(mfield, fmt)}
            if grade is None:
                status, current, note = CREATE, None, ""
                if name == "weight" and DistributorGrade.objects.filter(weight=value).exists():
                    note = _("权重 %(weight)s 已被其他等级使用，将使用下一个空闲权重") % {"weight": value}
                if (
                    name == "is_default"
                    and value
                    and DistributorGrade.objects.filter(is_default=True).exists()
                ):
                    value, note = False, _("已有默认等级，保持商家的默认等级")
                out.append(
                    Row(key, label, None, value, status, "—", _display(mfield, value, fmt), note, item=self)
                )
                continue
            current = getattr(grade, name)
            status = decide(key, current, value, mfield.get_default(), baseline, confirmed)
            out.append(
                Row(
                    key,
                    label,
                    current,
                    value,
                    status,
                    _display(mfield, current, fmt),
                    _display(mfield, value, fmt),
                    item=self,
                )
            )
        return out

    def write(self, rows: list[Row]) -> None:
        from fenxiao.distribution.models import DistributorGrade
        from fenxiao.distribution.services import config

        grade = DistributorGrade.objects.filter(name=self.name).first() or DistributorGrade(name=self.name)
        for row in rows:
            setattr(grade, row.key.rsplit(".", 1)[1], row.new)
        if grade.pk is None and DistributorGrade.objects.filter(weight=grade.weight).exists():
            top = DistributorGrade.objects.aggregate(top=models.Max("weight"))["top"] or 0
            grade.weight = top + 1
        config.save_grade(grade)


@dataclass
class Check:
    """A readiness note (nothing to write): `probe()` returns the text to show."""

    key: str
    label: str
    probe: Any

    def rows(self, baseline, confirmed) -> list[Row]:
        text = self.probe()
        return [Row(self.key, self.label, None, None, INFO, text, "", item=self)]


@dataclass
class Step:
    """A step another app provides, by dotted path to `fn(apply: bool, staff) -> (status,
    current_text, new_text)` with status SAME, CHANGE or CREATE; the function must be
    idempotent (get_or_create by a natural key). Until that app is installed the row reads
    "unavailable", so a template can list it today."""

    key: str
    label: str
    path: str

    def _fn(self):
        module, _, name = self.path.rpartition(".")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return None

    def rows(self, baseline, confirmed) -> list[Row]:
        fn = self._fn()
        if fn is None:
            return [Row(self.key, self.label, None, None, UNAVAILABLE, "—", "—", item=self)]
        status, current_text, new_text = fn(False, None)
        return [Row(self.key, self.label, None, None, status, current_text, new_text, item=self)]

    def write(self, rows: list[Row], staff) -> None:
        self._fn()(True, staff)
