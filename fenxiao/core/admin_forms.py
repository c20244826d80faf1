"""Backend form pieces shared by every app's admin: money typed in yuan, stored in fen;
rates typed in percent, stored in basis points; the one-form pages of detail actions.

Staff think in yuan ("12.34") and percent ("15.5"); the database holds integer fen (1234)
and basis points (1550). The conversion goes through `fenxiao.core.money` only, on strings
and Decimals, never through floats.
"""

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.utils import parse_date_str
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from .days import day_start
from .errors import DomainError
from .money import bp_to_percent, fen_to_yuan, format_bp, format_fen, percent_to_bp, yuan_to_fen

# Fits every integer money column on every database (PostgreSQL integer is 32-bit).
MAX_FEN = 1_000_000_000  # ¥10,000,000.00
# Long enough for any amount up to MAX_FEN with separators; anything longer is refused
# before parsing.
MAX_INPUT_LENGTH = 20


class _UnitWidget(UnfoldAdminTextInputWidget):
    """A text box showing a stored integer in the unit staff type, and keeping what was
    typed as is when a bound form is shown again."""

    input_type = "text"
    base_attrs: dict[str, str] = {}

    def __init__(self, attrs=None):
        super().__init__({**self.base_attrs, **(attrs or {})})

    def as_typed(self, value: int) -> str:
        raise NotImplementedError

    def format_value(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return self.as_typed(value)
        # Re-displaying a bound form: show exactly what the person typed.
        return str(value)


class _UnitField(forms.Field):
    """A number typed in one unit (yuan, percent), an integer in another (fen, basis
    points) in `cleaned_data`. Text longer than `max_input_length` is refused unparsed."""

    max_input_length = MAX_INPUT_LENGTH

    def parse(self, text: str) -> int:
        raise NotImplementedError

    def to_python(self, value):
        if value in self.empty_values:
            return self.empty_value
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # already the stored unit (initial data)
        text = str(value).strip()
        if not text:
            return self.empty_value
        if len(text) > self.max_input_length:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return self.parse(text)
        except (ValueError, ArithmeticError) as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc

    def has_changed(self, initial, data):
        try:
            data = self.to_python(data)
        except ValidationError:
            return True
        return initial != data


class MoneyWidget(_UnitWidget):
    """A text box showing fen as yuan ("1234" -> "12.34") and keeping what was typed as is."""

    base_attrs = {
        "inputmode": "decimal",
        "placeholder": "0.00",
        "autocomplete": "off",
        "maxlength": str(MAX_INPUT_LENGTH),
    }

    def as_typed(self, value: int) -> str:
        return fen_to_yuan(value)


class MoneyField(_UnitField):
    """Yuan in the form, integer fen in `cleaned_data`.

    `min_fen` / `max_fen` bound the amount in fen; `allow_negative` permits a markup
    (a negative discount) where the domain has one.
    """

    widget = MoneyWidget
    default_error_messages = {
        "invalid": gettext_lazy("请输入正确的金额（元），最多两位小数，例如 12.34"),
        "negative": gettext_lazy("金额不能为负数"),
        "min_value": gettext_lazy("金额不能小于 %(limit)s"),
        "max_value": gettext_lazy("金额不能大于 %(limit)s"),
    }

    def __init__(
        self,
        *,
        min_fen: int | None = None,
        max_fen: int | None = MAX_FEN,
        allow_negative: bool = False,
        empty_value: int | None = None,
        **kwargs,
    ):
        self.empty_value = empty_value
        self.min_fen = min_fen
        self.max_fen = max_fen
        self.allow_negative = allow_negative
        kwargs.setdefault("help_text", "")
        super().__init__(**kwargs)

    def parse(self, text: str) -> int:
        return yuan_to_fen(text)

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if value < 0 and not self.allow_negative:
            raise ValidationError(self.error_messages["negative"], code="negative")
        if self.min_fen is not None and value < self.min_fen:
            raise ValidationError(
                self.error_messages["min_value"], code="min_value", params={"limit": format_fen(self.min_fen)}
            )
        if self.max_fen is not None and abs(value) > self.max_fen:
            raise ValidationError(
                self.error_messages["max_value"], code="max_value", params={"limit": format_fen(self.max_fen)}
            )


def _yuan_label(verbose_name) -> str:
    """ "售价（分）" -> "售价（元）": model labels name the stored unit, forms the typed one."""
    label = str(verbose_name)
    if "（分）" in label:
        return label.replace("（分）", "（元）")
    if "(fen)" in label:  # an English label naming the stored unit
        return label.replace("(fen)", "(¥)")
    if label.endswith(("（元）", "(¥)")):
        return label
    return _("%(label)s（元）") % {"label": label}


# Lazy, as the model's own label is: the admin's change history stores labels with
# translation off (the shop's language) and each reader sees them in theirs.
yuan_label = lazy(_yuan_label, str)


class MoneyFieldsMixin:
    """For ModelAdmin and inlines: the integer fen columns named in `money_fields` get a
    yuan `MoneyField` in their forms."""

    money_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.money_fields:
            return money_formfield(db_field)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def money_formfield(db_field, **kwargs) -> MoneyField:
    required = not (db_field.blank or db_field.has_default())
    defaults = {
        "label": yuan_label(db_field.verbose_name),
        "required": required,
        "help_text": db_field.help_text,
        # Plain IntegerField money columns (a discount) may go negative; Positive* ones not.
        "allow_negative": db_field.get_internal_type() in ("IntegerField", "BigIntegerField"),
    }
    if not required and isinstance(db_field.default, int):
        # Left blank means the column's default (0), never NULL in a NOT NULL column.
        defaults["empty_value"] = db_field.default
    defaults.update(kwargs)
    return MoneyField(**defaults)


# --- Rates: percent in the form, basis points in the database ---------------------------

MAX_BP = 10_000  # 100 %


class PercentWidget(_UnitWidget):
    """A text box showing basis points as a percentage (1550 -> "15.50") with a % suffix."""

    base_attrs = {
        "inputmode": "decimal",
        "placeholder": "0.00",
        "autocomplete": "off",
        "maxlength": "10",
        "suffix": "%",
    }

    def as_typed(self, value: int) -> str:
        return bp_to_percent(value)


class PercentField(_UnitField):
    """A percentage in the form ("15.5"), integer basis points in `cleaned_data` (1550)."""

    widget = PercentWidget
    max_input_length = 12
    default_error_messages = {
        "invalid": gettext_lazy("请输入百分比，最多两位小数，例如 15.5"),
        "min_value": gettext_lazy("比例不能小于 %(limit)s"),
        "max_value": gettext_lazy("比例不能大于 %(limit)s"),
    }

    def __init__(self, *, min_bp: int = 0, max_bp: int = MAX_BP, empty_value=None, **kwargs):
        self.min_bp, self.max_bp, self.empty_value = min_bp, max_bp, empty_value
        kwargs.setdefault("help_text", "")
        super().__init__(**kwargs)

    def parse(self, text: str) -> int:
        return percent_to_bp(text)

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if value < self.min_bp:
            raise ValidationError(
                self.error_messages["min_value"], code="min_value", params={"limit": format_bp(self.min_bp)}
            )
        if value > self.max_bp:
            raise ValidationError(
                self.error_messages["max_value"], code="max_value", params={"limit": format_bp(self.max_bp)}
            )


def _percent_label(verbose_name) -> str:
    """ "一级佣金（基点）" -> "一级佣金（%）": model labels name the stored unit, forms the typed one."""
    label = str(verbose_name)
    if "（基点）" in label:
        return label.replace("（基点）", "（%）")
    if "(bp)" in label:  # an English label naming the stored unit
        return label.replace("(bp)", "(%)")
    return label if label.endswith(("（%）", "(%)")) else _("%(label)s（%%）") % {"label": label}


percent_label = lazy(_percent_label, str)


def percent_formfield(db_field, **kwargs) -> PercentField:
    required = not (db_field.blank or db_field.has_default())
    with translation.override(None):  # the text as written, whatever the page's language
        written = str(db_field.help_text or "")
    defaults = {
        "label": percent_label(db_field.verbose_name),
        "required": required,
        # The model's own "100 基点 = 1%" note is for the column, not for a percent box.
        "help_text": "" if "基点" in written else db_field.help_text,
    }
    if not required and isinstance(db_field.default, int):
        defaults["empty_value"] = db_field.default
    defaults.update(kwargs)
    return PercentField(**defaults)


class PercentFieldsMixin:
    """For ModelAdmin: every rate column (…_bp) is typed as a percentage."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name.endswith("_bp"):
            return percent_formfield(db_field)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


# --- Plain (non-model) forms in backend pages ----------------------------------------------


def style_fields(form: forms.BaseForm) -> forms.BaseForm:
    """Give a plain form's widgets the backend's look (unfold classes)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (MoneyWidget, PercentWidget)) or getattr(widget, "_styled", False):
            continue
        attrs = dict(widget.attrs)
        if isinstance(widget, forms.CheckboxInput):
            field.widget = UnfoldBooleanSwitchWidget(attrs)
        elif isinstance(widget, forms.Select) and not isinstance(widget, forms.SelectMultiple):
            field.widget = UnfoldAdminSelectWidget(attrs, choices=widget.choices)
        elif isinstance(widget, forms.Textarea):
            attrs.setdefault("rows", 3)
            field.widget = UnfoldAdminTextareaWidget(attrs)
        elif isinstance(widget, forms.NumberInput):
            field.widget = UnfoldAdminIntegerFieldWidget(attrs)
        elif isinstance(widget, forms.TextInput):
            field.widget = UnfoldAdminTextInputWidget(attrs)
        else:
            continue
        field.widget.is_required = field.required
        field.widget._styled = True
    return form


# --- Backend action pages ------------------------------------------------------------------


class ConfirmForm(forms.Form):
    """No fields: a POST with the CSRF token is the confirmation."""


def posted(request):
    """Form data for a POST (even an empty one, so it is validated), None for a GET."""
    return request.POST if request.method == "POST" else None


def action_page(
    model_admin,
    request,
    obj,
    *,
    title: str,
    form=None,
    submit_label: str | None = None,
    summary=None,
    danger: bool = False,
    template: str = "admin/fenxiao/action_form.html",
    **extra,
):
    """Render a one-form page (ship, adjust, refund, reject …) inside the backend layout.

    `summary` is a list of (label, value) rows shown above the form so staff see what they
    act on; the form's own fields follow.
    """
    from django.template.response import TemplateResponse

    opts = model_admin.model._meta
    request.current_app = model_admin.admin_site.name
    if form is not None:
        style_fields(form)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": obj,
        "title": title,
        "form": form,
        "summary": summary or [],
        "submit_label": submit_label or _("确定"),
        "danger": danger,
        "back_url": _change_url(model_admin, obj),
        **extra,
    }
    return TemplateResponse(request, template, context)


def _change_url(model_admin, obj) -> str:
    opts = model_admin.model._meta
    return reverse(f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def form_action(model_admin, request, obj, form, call, *, success, **page):
    """A detail action with a form: on a valid POST `call(cleaned_data)` runs the service.
    A refusal becomes an error message and a form error, never a 500; success becomes a
    message (`success`, or `success(result)`) and the way back to the record. Otherwise
    the form's page, with `page` passed to `action_page`."""
    if request.method == "POST" and form.is_valid():
        try:
            result = call(form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
            form.add_error(None, exc.message)
        else:
            messages.success(request, success(result) if callable(success) else success)
            return HttpResponseRedirect(_change_url(model_admin, obj))
    return action_page(model_admin, request, obj, form=form, **page)


def confirm_action(model_admin, request, obj, act, **page):
    """A detail action that needs only a confirmation: its page, then on the confirmed POST
    `act()` (which reports through messages) and back to the record."""
    form = ConfirmForm(posted(request))
    if request.method == "POST" and form.is_valid():
        act()
        return HttpResponseRedirect(_change_url(model_admin, obj))
    return action_page(model_admin, request, obj, form=form, **page)


def report_each(request, objects, call, *, name, done: str, failed: str, limit: int = 20) -> None:
    """Run `call` on each object on its own; one message lists the `name`s of those done,
    another those refused with the reason."""
    ok, refused = [], []
    for obj in objects:
        try:
            call(obj)
            ok.append(name(obj))
        except DomainError as exc:
            refused.append(_("%(name)s（%(reason)s）") % {"name": name(obj), "reason": exc.message})
    if ok:
        messages.success(request, str(done) + pgettext("list separator", "、").join(ok[:limit]))
    if refused:
        messages.error(request, str(failed) + pgettext("list separator", "；").join(refused[:limit]))


FILTER_DAYS = (date(1970, 1, 1), date(2999, 12, 31))


class LocalDateRangeFilter(RangeDateFilter):
    """A from/to date filter on a datetime column, in whole local calendar days.

    unfold's own filter compares the datetime with midnight, which drops the last day and
    warns about naive datetimes; a malformed date is ignored with a notice, never a 500.
    """

    def queryset(self, request, queryset):
        # Compared as a range of moments ([start of from, start of the day after to)), not
        # as the column cast to a date: the column's index serves the filter.
        filters = {}
        for suffix, lookup, offset in (("_from", "gte", 0), ("_to", "lt", 1)):
            raw = self.used_parameters.get(f"{self.parameter_name}{suffix}")
            if isinstance(raw, str) and raw:
                day = parse_date_str(raw)
                # A day out of any shop's life (0001-01-01) would overflow as a moment in UTC.
                if day is None or not FILTER_DAYS[0] <= day <= FILTER_DAYS[1]:
                    # An export reads the list through a request of its own, with no
                    # messages: there the bad day is ignored as on the page, unannounced.
                    messages.warning(
                        request, _("日期“%(date)s”格式有误，已忽略") % {"date": raw}, fail_silently=True
                    )
                    continue
                filters[f"{self.parameter_name}__{lookup}"] = day_start(day + timedelta(days=offset))
        return queryset.filter(**filters)
