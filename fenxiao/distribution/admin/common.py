"""Pieces shared by the distribution backend pages: badges, links, forms for reasons, the
one-form pages for list and bulk actions, and running a service with its refusal shown.

Every state change is a service call; these helpers only collect input and show results.

Phones of buyers and distributors are masked (138****1234) unless the staff member may see
them (`customers.view_customer_phone`: 运营 may, 财务 may not), as on the order pages and
with their helpers: `with_phone_flag` annotates the flag in `get_queryset`, `full_phones`
reads it back from the row, and `user_text` / `distributor_text` take it.
"""

import copy
import unicodedata

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.db import IntegrityError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.contrib.filters.admin import TextFilter

from fenxiao.core.admin import change_url as change_url
from fenxiao.core.admin import user_text as user_text
from fenxiao.core.admin_forms import ConfirmForm as ConfirmForm
from fenxiao.core.admin_forms import action_page, style_fields
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_bp
from fenxiao.customers.backoffice.listing import full_phones as full_phones
from fenxiao.customers.backoffice.listing import may_see_phones as may_see_phones
from fenxiao.customers.backoffice.listing import shown_user
from fenxiao.customers.backoffice.listing import with_phone_flag as with_phone_flag

from ..services import config

ACTION_TEMPLATE = "admin/fenxiao/action_form.html"


def labels(mapping: dict) -> dict[str, str]:
    return {str(k): v for k, v in mapping.items()}


def badge(text, kind) -> str:
    return render_to_string("unfold/helpers/label.html", {"text": text, "type": kind})


def changelist_url(model, **filters) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    if filters:
        from urllib.parse import urlencode

        url += "?" + urlencode(filters)
    return url


def link(obj, text=None) -> str:
    if obj is None:
        return "-"
    return format_html(
        '<a class="text-primary-600 dark:text-primary-500" href="{}">{}</a>',
        change_url(obj),
        text if text is not None else str(obj),
    )


def link_to(url: str, text) -> str:
    return format_html('<a class="text-primary-600 dark:text-primary-500" href="{}">{}</a>', url, text)


def distributor_text(distributor, full_phone: bool = True) -> str:
    """A distributor as staff see them: their user (phone masked unless `full_phone`) and
    referral code."""
    if distributor is None:
        return "-"
    return f"{user_text(distributor.user, full_phone)} · {distributor.referral_code}"


def row_distributor_text(distributor) -> str:
    """`distributor_text` for a row of a list's queryset (bulk actions' summaries)."""
    return distributor_text(distributor, full_phones(distributor))


class DistributorFilter(TextFilter):
    """?distributor=<referral code or phone>: one distributor's records, shown as a filter
    the merchant can read and clear (a bare distributor id in the address was neither)."""

    title = gettext_lazy("分销商（推广码或手机号）")
    parameter_name = "distributor"
    field = "distributor"

    def queryset(self, request, queryset):
        # As typed with a Chinese IME too (full-width letters and digits).
        value = unicodedata.normalize("NFKC", self.value() or "").strip()[:32]
        if not value:
            return queryset
        code = Q(**{f"{self.field}__referral_code": value.upper()})
        phone = Q(**{f"{self.field}__user__phone": value})
        return queryset.filter(code | phone)


class ParentFilter(DistributorFilter):
    """?parent=<referral code or phone>: one distributor's direct team."""

    title = gettext_lazy("上级（推广码或手机号）")
    parameter_name = "parent"
    field = "parent"


def shown_binding(binding):
    """`binding` for a page title or breadcrumb (str() names the buyer, often by phone): a copy
    whose buyer's phone is masked unless the row says the page shows whole phones."""
    shown = copy.copy(binding)
    shown.buyer = shown_user(binding.buyer, full_phones(binding))
    return shown


def bp_text(bp: int | None) -> str:
    return format_bp(bp)


def local_time(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "-"


def decided_text(obj) -> str:
    """Who decided a review or a claim, and when ("系统" when it closed itself)."""
    if not obj.decided_at:
        return "-"
    who = user_text(obj.decided_by) if obj.decided_by_id else _("系统")
    return f"{who} · {local_time(obj.decided_at)}"


# --- Forms ---------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=200, widget=forms.Textarea)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("说明"), max_length=200, required=False, widget=forms.Textarea
    )


class ReferenceForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("打款凭证号"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("银行流水号或转账单号，便于对账"),
    )


class SelectedField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return list(value or [])


def bulk_form_class(form_class):
    """`form_class` plus the hidden inputs that bring a bulk action back to the changelist."""

    class Bulk(form_class):
        action = forms.CharField(widget=forms.HiddenInput)
        select_across = forms.CharField(widget=forms.HiddenInput, required=False)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields[helpers.ACTION_CHECKBOX_NAME] = SelectedField(required=False)

    Bulk.__name__ = f"Bulk{form_class.__name__}"
    return Bulk


# --- Pages ---------------------------------------------------------------------------------


def form_page(
    model_admin,
    request,
    *,
    title,
    form=None,
    summary=None,
    submit_label=gettext_lazy("确定"),
    danger=False,
    back_url=None,
    **extra,
):
    """A one-form page in the backend layout for actions that are not about one record."""
    opts = model_admin.model._meta
    request.current_app = model_admin.admin_site.name
    if form is not None:
        style_fields(form)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "form": form,
        "summary": summary or [],
        "submit_label": submit_label,
        "danger": danger,
        "back_url": back_url or changelist_url(model_admin.model),
        **extra,
    }
    return TemplateResponse(request, ACTION_TEMPLATE, context)


def bulk_step(
    model_admin, request, queryset, form_class, *, title, submit_label, danger=False, describe=str, limit=20
):
    """First call of a bulk action shows a form (a reason …) for the selected records; the
    confirmed POST comes back through the changelist. Returns (cleaned_data, None) when
    confirmed and valid, else (None, the page to show)."""
    bulk = bulk_form_class(form_class)
    confirmed = "_confirm" in request.POST
    form = bulk(
        request.POST if confirmed else None,
        initial={
            "action": request.POST.get("action", ""),
            "select_across": request.POST.get("select_across", "0"),
            helpers.ACTION_CHECKBOX_NAME: request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        },
    )
    if confirmed and form.is_valid():
        return form.cleaned_data, None
    count = queryset.count()
    shown = [describe(obj) for obj in queryset[:limit]]
    if count > limit:
        shown.append(_("…… 共 %(count)s 条") % {"count": count})
    summary = [(_("已选择"), _("%(count)s 条") % {"count": count}), (_("记录"), _("；").join(shown) or "-")]
    page = form_page(
        model_admin,
        request,
        title=title,
        form=form,
        summary=summary,
        submit_label=submit_label,
        danger=danger,
        back_url=request.get_full_path(),
    )
    return None, page


def run(request, call, form=None, *, success=None):
    """Call a service; a refusal becomes an error message (and a form error), never a 500.
    Returns (result, ok)."""
    try:
        result = call()
    except DomainError as exc:
        messages.error(request, exc.message)
        if form is not None:
            form.add_error(None, exc.message)
        return None, False
    if success:
        messages.success(request, success(result) if callable(success) else success)
    return result, True


def object_form_action(
    model_admin,
    request,
    obj,
    form_class,
    call,
    *,
    title,
    submit_label,
    success,
    summary,
    danger=False,
    label=None,
    initial=None,
):
    """A detail-page action with a small form: show it, call the service on POST, report."""
    form = form_class(request.POST or None, initial=initial)
    if label and "reason" in form.fields:
        form.fields["reason"].label = label
    if request.method == "POST" and form.is_valid():
        _result, ok = run(request, lambda: call(obj, form.cleaned_data), form, success=success)
        if ok:
            return HttpResponseRedirect(change_url(obj))
    return action_page(
        model_admin,
        request,
        obj,
        title=title,
        form=form,
        summary=summary,
        submit_label=submit_label,
        danger=danger,
    )


def run_each(request, queryset, call, *, describe=str, done=gettext_lazy("已处理")):
    """A bulk action: the service for each record on its own; refusals are listed by record."""
    ok, refused = 0, []
    for obj in queryset:
        try:
            call(obj)
        except DomainError as exc:
            refused.append(_("%(record)s：%(reason)s") % {"record": describe(obj), "reason": exc.message})
        else:
            ok += 1
    if ok:
        messages.success(request, _("%(done)s %(count)s 条") % {"done": done, "count": ok})
    for text in refused[:20]:
        messages.error(request, text)
    if len(refused) > 20:
        messages.error(request, _("另有 %(count)s 条未处理") % {"count": len(refused) - 20})


def refusal(call, instance):
    """What a save service would refuse for `instance`, with nothing kept: the service runs
    on a copy inside a savepoint that is always rolled back. Lets a form show the refusal
    next to the fields instead of after the admin has decided the form was valid."""
    trial = copy.copy(instance)
    try:
        config.dry_run(lambda: call(trial))
        return None
    except DomainError as exc:
        return exc.message
    except IntegrityError:
        return _("与已有记录冲突，请检查后重试")


class ServiceSaveMixin:
    """ModelAdmin whose save goes through a service. The form has already run the service
    dry, so a refusal here is a race: it is shown as an error, nothing is saved or logged,
    and the page goes back to the form."""

    def _save_via(self, request, call) -> bool:
        try:
            call()  # each save service is atomic: a refusal leaves nothing behind
        except DomainError as exc:
            messages.error(request, exc.message)
            request._distribution_save_refused = True
            return False
        return True

    def _refused(self, request) -> bool:
        return getattr(request, "_distribution_save_refused", False)

    def save_related(self, request, form, formsets, change):
        if not self._refused(request):
            super().save_related(request, form, formsets, change)

    def log_addition(self, request, obj, message):
        if not self._refused(request):
            return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not self._refused(request):
            return super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if self._refused(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if self._refused(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)
