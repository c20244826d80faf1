"""风控审核: the commission the abuse guards held, why, and staff's decision — clear it
(it settles as it would have) or void it — one service call each, alone or in bulk."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action, display

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyAdmin, fen_column, label_display
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.core.money import format_fen

from ..models import Commission, RiskReview, RiskReviewStatus, RiskSignal, RiskTrust
from ..services import risk
from .common import (
    OptionalReasonForm,
    ReasonForm,
    badge,
    bulk_step,
    changelist_url,
    decided_text,
    distributor_text,
    full_phones,
    labels,
    link,
    link_to,
    local_time,
    object_form_action,
    run_each,
    user_text,
    with_phone_flag,
)

REVIEW_LABELS = {
    RiskReviewStatus.OPEN: "warning",
    RiskReviewStatus.CLEARED: "success",
    RiskReviewStatus.VOIDED: "danger",
    RiskReviewStatus.CLOSED: "info",
}


class ClearForm(OptionalReasonForm):
    trust = forms.BooleanField(
        label=gettext_lazy("信任该买家与分销商"),
        required=False,
        help_text=gettext_lazy(
            "确认是家人、店员等熟人关系：以后不再因同一手机号、地址、设备或收款账户拦截这两人的订单"
            "（循环招募、频繁退款仍会拦截；可在“风控信任名单”撤销）"
        ),
    )


class SignalFilter(admin.SimpleListFilter):
    title = gettext_lazy("风险类型")
    parameter_name = "signal"

    def lookups(self, request, model_admin):
        return RiskSignal.choices

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(signals__contains=value) if value in RiskSignal.values else queryset


@admin.register(RiskReview)
class RiskReviewAdmin(DetailActionsMixin, ReadOnlyAdmin):
    missing_message = gettext_lazy("风控记录不存在")
    list_display = (
        "id",
        "created_at",
        "order_number",
        "distributor_display",
        "buyer_display",
        "signals_display",
        "held_display",
        "status_label",
        "decided_display",
    )
    list_filter = ("status", SignalFilter, ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = (
        "=order__number",
        "distributor__user__phone",
        "=distributor__referral_code",
        "buyer__phone",
    )
    search_help_text = gettext_lazy("按完整订单号、分销商手机号、完整推广码或买家手机号搜索")
    list_select_related = ("order", "distributor__user", "buyer", "decided_by")
    list_per_page = 50
    actions = ("clear_selected", "void_selected")
    actions_detail = ("clear", "void")
    fieldsets = (
        (
            gettext_lazy("风控"),
            {
                "fields": (
                    "status_badge",
                    "signals_display",
                    "evidence_display",
                    "held_display",
                    "commissions_link",
                    "created_at",
                )
            },
        ),
        (gettext_lazy("订单与人"), {"fields": ("order_link", "distributor_link", "buyer_display")}),
        (gettext_lazy("审核"), {"fields": ("decided_display", "decided_at", "note_display")}),
    )
    readonly_fields = (
        "status_badge",
        "signals_display",
        "evidence_display",
        "held_display",
        "commissions_link",
        "created_at",
        "order_link",
        "distributor_link",
        "buyer_display",
        "decided_display",
        "decided_at",
        "note_display",
    )

    def get_queryset(self, request):
        queryset = (
            super().get_queryset(request).select_related("order", "distributor__user", "buyer", "decided_by")
        )
        return with_phone_flag(queryset, request)

    # Clearing and voiding decide what a distributor is paid: change permission, not view.
    def has_process_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_riskreview")

    # --- columns ---

    @display(description=gettext_lazy("订单号"), ordering="order__number")
    def order_number(self, obj):
        return obj.order.number

    @display(description=gettext_lazy("订单"))
    def order_link(self, obj):
        return link(obj.order, obj.order.number)

    @display(description=gettext_lazy("分销商"), ordering="distributor__user__phone")
    def distributor_display(self, obj):
        return distributor_text(obj.distributor, full_phones(obj))

    @display(description=gettext_lazy("分销商"))
    def distributor_link(self, obj):
        return link(obj.distributor, distributor_text(obj.distributor, full_phones(obj)))

    @display(description=gettext_lazy("买家"))
    def buyer_display(self, obj):
        return user_text(obj.buyer, full_phones(obj))

    @display(description=gettext_lazy("风险类型"))
    def signals_display(self, obj):
        return _("、").join(obj.signal_labels)

    @display(description=gettext_lazy("依据"))
    def evidence_display(self, obj):
        return format_html_join("", "<div>{}</div>", ((text,) for text in obj.evidence_texts)) or "-"

    @display(description=gettext_lazy("审核说明"))
    def note_display(self, obj):
        return obj.note_text or "-"

    held_display = fen_column(gettext_lazy("暂扣佣金"), field="held_amount", ordering="held_amount")

    @display(description=gettext_lazy("佣金明细"))
    def commissions_link(self, obj):
        url = changelist_url(Commission, order=obj.order.number, q=obj.distributor.referral_code)
        return link_to(url, _("查看该订单的佣金记录"))

    @label_display(description=gettext_lazy("状态"), ordering="status", label=labels(REVIEW_LABELS))
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return badge(obj.get_status_display(), REVIEW_LABELS.get(obj.status))

    @display(description=gettext_lazy("审核人"))
    def decided_display(self, obj):
        return decided_text(obj)  # 已失效: closed by the refund or ban, "系统"

    # --- bulk actions ---

    @action(description=gettext_lazy("放行所选（照常结算）"), permissions=["process"])
    def clear_selected(self, request, queryset):
        data, page = bulk_step(
            self,
            request,
            queryset,
            ClearForm,
            title=_("放行暂扣佣金"),
            submit_label=_("确认放行"),
            describe=risk.describe,
        )
        if page is not None:
            return page
        run_each(
            request,
            queryset,
            lambda review: risk.clear(review, request.user, note=data["reason"], trust=data["trust"]),
            describe=risk.describe,
            done=_("已放行（未取消的佣金将照常结算）"),
        )
        return None

    @action(description=gettext_lazy("作废所选佣金"), permissions=["process"])
    def void_selected(self, request, queryset):
        data, page = bulk_step(
            self,
            request,
            queryset,
            ReasonForm,
            title=_("作废暂扣佣金"),
            submit_label=_("确认作废"),
            danger=True,
            describe=risk.describe,
        )
        if page is not None:
            return page
        run_each(
            request,
            queryset,
            lambda review: risk.void(review, request.user, note=data["reason"]),
            describe=risk.describe,
            done=_("已作废佣金"),
        )
        return None

    # --- detail actions ---

    def detail_actions_for(self, review):
        return {"clear", "void"} if review.status == RiskReviewStatus.OPEN else set()

    def _summary(self, review: RiskReview):
        return [
            (_("订单"), review.order.number),
            (_("分销商"), distributor_text(review.distributor, full_phones(review))),
            (_("买家"), user_text(review.buyer, full_phones(review))),
            (_("风险类型"), _("、").join(review.signal_labels)),
            (_("依据"), _("；").join(review.evidence_texts)),
            (_("暂扣佣金"), format_fen(review.held_amount)),
        ]

    def _form_action(self, request, object_id, form_class, call, **options):
        review = self.object_or_404(request, object_id)
        return object_form_action(
            self,
            request,
            review,
            form_class,
            call,
            summary=self._summary(review),
            **options,
        )

    @action(description=gettext_lazy("放行"), url_path="clear", icon="check_circle", permissions=["process"])
    def clear(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ClearForm,
            lambda review, data: risk.clear(review, request.user, note=data["reason"], trust=data["trust"]),
            title=_("放行暂扣佣金"),
            submit_label=_("确认放行"),
            label=_("审核说明"),
            success=_("已放行，未取消的佣金将照常结算"),
        )

    @action(description=gettext_lazy("作废佣金"), url_path="void", icon="block", permissions=["process"])
    def void(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ReasonForm,
            lambda review, data: risk.void(review, request.user, note=data["reason"]),
            title=_("作废暂扣佣金"),
            submit_label=_("确认作废"),
            danger=True,
            label=_("作废原因"),
            success=_("已作废，该笔佣金不再结算"),
        )


@admin.register(RiskTrust)
class RiskTrustAdmin(ReadOnlyAdmin):
    """风控信任名单: the buyer–distributor pairs staff vouched for when clearing a review."""

    list_display = (
        "created_display",
        "distributor_display",
        "buyer_display",
        "review_link",
        "note",
        "created_by_display",
    )
    search_fields = ("distributor__user__phone", "=distributor__referral_code", "buyer__phone")
    search_help_text = gettext_lazy("按分销商手机号、完整推广码或买家手机号搜索")
    list_select_related = ("distributor__user", "buyer", "review__order", "created_by")
    actions = ("revoke_selected",)

    def has_process_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_riskreview")

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request), request)

    @display(description=gettext_lazy("信任时间"), ordering="created_at")
    def created_display(self, obj):
        return local_time(obj.created_at)

    @display(description=gettext_lazy("分销商"))
    def distributor_display(self, obj):
        return distributor_text(obj.distributor, full_phones(obj))

    @display(description=gettext_lazy("买家"))
    def buyer_display(self, obj):
        return user_text(obj.buyer, full_phones(obj))

    @display(description=gettext_lazy("来源审核"))
    def review_link(self, obj):
        return (
            link(obj.review, _("订单 %(number)s") % {"number": obj.review.order.number})
            if obj.review_id
            else "-"
        )

    @display(description=gettext_lazy("操作人"))
    def created_by_display(self, obj):
        return user_text(obj.created_by, full_phones(obj)) if obj.created_by_id else "-"

    @action(description=gettext_lazy("撤销所选信任（恢复拦截）"), permissions=["process"])
    def revoke_selected(self, request, queryset):
        run_each(request, queryset, risk.revoke_trust, done=_("已撤销信任"))
