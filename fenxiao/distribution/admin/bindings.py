"""客户关系 (who each buyer belongs to, re-assigned by hand with a reason) and 推广访问记录
(every visit through a link / QR / poster / store / coupon, with the rule that decided it)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action, display

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyAdmin, label_display
from fenxiao.core.admin_forms import LocalDateRangeFilter, action_page

from ..models import CustomerBinding, Touch, TouchDecision
from ..services import binding
from .common import (
    DistributorFilter,
    change_url,
    changelist_url,
    distributor_text,
    form_page,
    full_phones,
    labels,
    link,
    link_to,
    local_time,
    may_see_phones,
    run,
    shown_binding,
    user_text,
    with_phone_flag,
)
from .distributor_forms import DistributorLookupField, find_user

DECISION_LABELS = {
    TouchDecision.BOUND: "success",
    TouchDecision.REBOUND: "info",
    TouchDecision.RENEWED: "success",
    TouchDecision.KEPT: "default",
    TouchDecision.PENDING_LOGIN: "warning",
    TouchDecision.REFUSED: "danger",
}


class ReassignForm(forms.Form):
    distributor = DistributorLookupField(label=gettext_lazy("新分销商"))
    reason = forms.CharField(
        label=gettext_lazy("调整原因"),
        max_length=200,
        widget=forms.Textarea,
        help_text=gettext_lazy("必填，会记入推广访问记录"),
    )


class BindForm(ReassignForm):
    buyer = forms.CharField(label=gettext_lazy("客户手机号"), max_length=150)

    field_order = ("buyer", "distributor", "reason")

    def clean_buyer(self):
        user = find_user(self.cleaned_data["buyer"])
        if user is None:
            raise ValidationError(_("找不到该客户，请确认对方已注册"))
        return user


@admin.register(CustomerBinding)
class CustomerBindingAdmin(DetailActionsMixin, ReadOnlyAdmin):
    missing_message = gettext_lazy("客户关系不存在")
    list_display = (
        "buyer_display",
        "distributor_display",
        "source",
        "bound_at",
        "expires_at",
        "protected_until",
    )
    list_filter = (DistributorFilter, "source", ("bound_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("buyer__phone", "distributor__user__phone", "=distributor__referral_code")
    search_help_text = gettext_lazy("按买家手机号、分销商手机号或完整推广码搜索")
    list_select_related = ("buyer", "distributor__user")
    list_per_page = 50
    actions_list = ("bind_buyer",)
    actions_detail = ("reassign",)

    def detail_actions_for(self, binding):
        return {"reassign"}

    fields = (
        "buyer_display",
        "distributor_link",
        "source",
        "bound_at",
        "expires_at",
        "protected_until",
        "touches_link",
    )
    readonly_fields = fields

    # A named permission, not "distribution.change_customerbinding" in @action: unfold checks dotted
    # names against the database at start-up, before migrations have run.
    def has_rebind_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_customerbinding")

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request), request)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:  # the page title and breadcrumb name the buyer
            shown = shown_binding(obj)
            context = {**context, "original": shown, "subtitle": str(shown)}
        return super().render_change_form(request, context, add, change, form_url, obj)

    @display(description=gettext_lazy("客户"), ordering="buyer__phone")
    def buyer_display(self, obj):
        return user_text(obj.buyer, full_phones(obj))

    @display(description=gettext_lazy("分销商"))
    def distributor_display(self, obj):
        return distributor_text(obj.distributor, full_phones(obj))

    @display(description=gettext_lazy("分销商"))
    def distributor_link(self, obj):
        return link(obj.distributor, distributor_text(obj.distributor, full_phones(obj)))

    @display(description=gettext_lazy("访问记录"))
    def touches_link(self, obj):
        return link_to(changelist_url(Touch, buyer__id__exact=obj.buyer_id), _("查看该客户的访问记录"))

    @action(description=gettext_lazy("改绑"), url_path="reassign", icon="swap_horiz", permissions=["rebind"])
    def reassign(self, request, object_id):
        current = self.object_or_404(request, object_id)
        full = full_phones(current)
        form = ReassignForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            result, ok = run(
                request,
                lambda: binding.reassign(
                    current.buyer, data["distributor"], request.user, reason=data["reason"]
                ),
                form,
                success=_("已改绑到 %(distributor)s")
                % {"distributor": distributor_text(data["distributor"], full)},
            )
            if ok:
                return HttpResponseRedirect(change_url(result))
        summary = [
            (_("客户"), user_text(current.buyer, full)),
            (_("当前分销商"), distributor_text(current.distributor, full)),
            (_("来源"), current.get_source_display()),
            (_("绑定时间"), local_time(current.bound_at)),
        ]
        return action_page(
            self,
            request,
            shown_binding(current),
            title=_("改绑：%(buyer)s") % {"buyer": user_text(current.buyer, full)},
            form=form,
            summary=summary,
            submit_label=_("确认改绑"),
        )

    @action(description=gettext_lazy("绑定客户"), url_path="bind", icon="person_pin", permissions=["rebind"])
    def bind_buyer(self, request):
        form = BindForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            result, ok = run(
                request,
                lambda: binding.reassign(
                    data["buyer"], data["distributor"], request.user, reason=data["reason"]
                ),
                form,
                success=_("%(buyer)s 已绑定到 %(distributor)s")
                % {
                    "buyer": user_text(data["buyer"], may_see_phones(request)),
                    "distributor": distributor_text(data["distributor"], may_see_phones(request)),
                },
            )
            if ok:
                return HttpResponseRedirect(change_url(result))
        return form_page(
            self,
            request,
            title=_("绑定客户"),
            form=form,
            submit_label=_("确认绑定"),
            summary=[(_("说明"), _("为客户指定分销商（已有绑定的会被改绑），原因会记入推广访问记录"))],
        )


@admin.register(Touch)
class TouchAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "buyer_display",
        "distributor_display",
        "source",
        "decision_label",
        "rule",
        "reason_display",
        "staff_display",
    )
    list_filter = ("decision", "rule", "source", ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("buyer__phone", "distributor__user__phone", "=distributor__referral_code")
    search_help_text = gettext_lazy("按买家手机号、分销商手机号或完整推广码搜索")
    list_select_related = ("buyer", "distributor__user", "staff")
    list_per_page = 100
    fields = (
        "created_at",
        "buyer_display",
        "distributor_display",
        "source",
        "decision_label",
        "rule",
        "reason_display",
        "target",
        "staff_display",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request), request)

    @display(description=gettext_lazy("客户"))
    def buyer_display(self, obj):
        return user_text(obj.buyer, full_phones(obj)) if obj.buyer_id else _("未登录访客")

    @display(description=gettext_lazy("分销商"))
    def distributor_display(self, obj):
        return distributor_text(obj.distributor, full_phones(obj))

    @label_display(description=gettext_lazy("结果"), ordering="decision", label=labels(DECISION_LABELS))
    def decision_label(self, obj):
        return obj.decision, obj.get_decision_display()

    @display(description=gettext_lazy("说明"))
    def reason_display(self, obj):
        return obj.reason_text or "-"

    @display(description=gettext_lazy("操作人"))
    def staff_display(self, obj):
        return user_text(obj.staff, full_phones(obj)) if obj.staff_id else "-"
