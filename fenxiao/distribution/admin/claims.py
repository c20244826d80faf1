"""掉单申诉: a distributor's claim on an order, with what staff need to decide it — who the
order went to and why (the attribution), and the buyer's arrivals through the claimant (the
touches, with the rule that decided each) — then 改判 or 驳回, one service call each."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action, display

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyAdmin, label_display
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.core.errors import PermissionDenied
from fenxiao.core.money import format_fen

from ..models import ClaimStatus, Commission, OrderAttribution, OrderClaim
from ..services import claims
from .common import (
    OptionalReasonForm,
    ReasonForm,
    badge,
    changelist_url,
    decided_text,
    distributor_text,
    full_phones,
    labels,
    link,
    link_to,
    local_time,
    object_form_action,
    user_text,
    with_phone_flag,
)

CLAIM_LABELS = {
    ClaimStatus.OPEN: "warning",
    ClaimStatus.APPROVED: "success",
    ClaimStatus.REJECTED: "danger",
}


class ApproveForm(OptionalReasonForm):
    rebind = forms.BooleanField(
        label=gettext_lazy("同时将该客户改绑给申诉分销商"),
        required=False,
        help_text=gettext_lazy("勾选后，该客户以后的订单也归申诉分销商（按后台改绑记录）"),
    )


@admin.register(OrderClaim)
class OrderClaimAdmin(DetailActionsMixin, ReadOnlyAdmin):
    missing_message = gettext_lazy("申诉不存在")
    list_display = (
        "id",
        "created_display",
        "order_number",
        "claimant_display",
        "previous_display",
        "reason",
        "status_label",
        "decided_display",
    )
    list_filter = ("status", ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("=order__number", "distributor__user__phone", "=distributor__referral_code")
    search_help_text = gettext_lazy("按完整订单号、分销商手机号或完整推广码搜索")
    list_select_related = ("order", "distributor__user", "previous_level1__user", "decided_by")
    list_per_page = 50
    actions_detail = ("approve", "reject")
    fieldsets = (
        (gettext_lazy("申诉"), {"fields": ("status_badge", "claimant_link", "reason", "created_display")}),
        (
            gettext_lazy("订单与归属"),
            {"fields": ("order_link", "order_summary", "attribution_display", "commissions_link")},
        ),
        (gettext_lazy("客户最近的访问与绑定记录"), {"fields": ("touches_display",)}),
        (gettext_lazy("处理"), {"fields": ("decided_display", "note_display")}),
    )
    readonly_fields = (
        "status_badge",
        "claimant_link",
        "reason",
        "created_display",
        "order_link",
        "order_summary",
        "attribution_display",
        "commissions_link",
        "touches_display",
        "decided_display",
        "note_display",
    )

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .select_related("order__buyer", "distributor__user", "previous_level1__user", "decided_by")
        )
        return with_phone_flag(queryset, request)

    # Deciding moves an order's commission between distributors: change permission.
    def has_process_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_orderclaim")

    # --- columns ---

    @display(description=gettext_lazy("申诉时间"), ordering="created_at")
    def created_display(self, obj):
        return local_time(obj.created_at)

    @display(description=gettext_lazy("订单号"), ordering="order__number")
    def order_number(self, obj):
        return obj.order.number

    @display(description=gettext_lazy("申诉分销商"))
    def claimant_display(self, obj):
        return distributor_text(obj.distributor, full_phones(obj))

    @display(description=gettext_lazy("申诉分销商"))
    def claimant_link(self, obj):
        return link(obj.distributor, distributor_text(obj.distributor, full_phones(obj)))

    @display(description=gettext_lazy("申诉时的一级分销商"))
    def previous_display(self, obj):
        return (
            distributor_text(obj.previous_level1, full_phones(obj))
            if obj.previous_level1_id
            else _("无（未归属任何分销商）")
        )

    @label_display(description=gettext_lazy("状态"), ordering="status", label=labels(CLAIM_LABELS))
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return badge(obj.get_status_display(), CLAIM_LABELS.get(obj.status))

    @display(description=gettext_lazy("处理人"))
    def decided_display(self, obj):
        return decided_text(obj)

    @display(description=gettext_lazy("订单"))
    def order_link(self, obj):
        return link(obj.order, obj.order.number)

    @display(description=gettext_lazy("订单概况"))
    def order_summary(self, obj):
        order = obj.order
        refunded = (
            _("，已退款 %(amount)s") % {"amount": format_fen(order.refunded_amount)}
            if order.refunded_amount
            else ""
        )
        paid = format_fen(order.paid_amount)
        return _("买家 %(buyer)s · %(status)s · 实付 %(paid)s%(refunded)s · 付款于 %(paid_at)s") % {
            "buyer": user_text(order.buyer, full_phones(obj)),
            "status": order.get_status_display(),
            "paid": paid,
            "refunded": refunded,
            "paid_at": local_time(order.paid_at),
        }

    @display(description=gettext_lazy("当前归属"))
    def attribution_display(self, obj):
        attribution = (
            OrderAttribution.objects.select_related("level1__user", "level2__user", "level3__user")
            .filter(order_id=obj.order_id)
            .first()
        )
        if attribution is None:
            return _("未归属任何分销商（下单时客户没有有效的绑定关系）")
        levels = [
            (_("%(level)s级") % {"level": n}, distributor_text(d, full_phones(obj)))
            for n, d in ((1, attribution.level1), (2, attribution.level2), (3, attribution.level3))
            if d is not None
        ]
        rows = [*levels, (_("依据"), attribution.reason_text or "-")]
        return format_html_join("", _("<div>{}：{}</div>"), rows)

    @display(description=gettext_lazy("佣金明细"))
    def commissions_link(self, obj):
        return link_to(changelist_url(Commission, order=obj.order.number), _("查看该订单的佣金记录"))

    @display(description=gettext_lazy("处理说明"))
    def note_display(self, obj):
        return obj.note_text or "-"

    @display(description=gettext_lazy("访问记录"))
    def touches_display(self, obj):
        rows = [
            (
                local_time(t.created_at),
                distributor_text(t.distributor, full_phones(obj)),
                _("（申诉人）") if t.distributor_id == obj.distributor_id else "",
                t.get_source_display(),
                t.get_decision_display(),
                t.reason_text or "-",
            )
            for t in claims.touches(obj)
        ]
        if not rows:
            return _("没有该客户经由任何分销商进入的记录")
        return format_html_join("", _("<div>{} · {}{} · {} · {}（{}）</div>"), rows)

    # --- detail actions ---

    def detail_actions_for(self, claim):
        return {"approve", "reject"} if claim.status == ClaimStatus.OPEN else set()

    def _summary(self, claim: OrderClaim):
        return [
            (_("订单"), claim.order.number),
            (_("申诉分销商"), distributor_text(claim.distributor, full_phones(claim))),
            (_("申诉说明"), claim.reason),
        ]

    @action(
        description=gettext_lazy("改判给申诉人"),
        url_path="approve",
        icon="swap_horiz",
        permissions=["process"],
    )
    def approve(self, request, object_id):
        claim = self.object_or_404(request, object_id)
        return object_form_action(
            self,
            request,
            claim,
            ApproveForm,
            lambda c, data: self._approve(request, c, data),
            title=_("改判订单归属"),
            submit_label=_("确认改判"),
            label=_("处理说明"),
            summary=[
                *self._summary(claim),
                (_("改判后"), _("原分销链上未结算的佣金取消，按当前规则为申诉人及其上级重新计算佣金")),
            ],
            success=_("已改判，订单及佣金已归申诉分销商"),
        )

    @staticmethod
    def _approve(request, claim, data):
        if data["rebind"] and not request.user.has_perm("distribution.change_customerbinding"):
            raise PermissionDenied(_("没有改绑客户的权限，请不勾选改绑后再改判"))
        return claims.approve(claim, request.user, note=data["reason"], rebind=data["rebind"])

    @action(description=gettext_lazy("驳回"), url_path="reject", icon="block", permissions=["process"])
    def reject(self, request, object_id):
        claim = self.object_or_404(request, object_id)
        return object_form_action(
            self,
            request,
            claim,
            ReasonForm,
            lambda c, data: claims.reject(c, request.user, note=data["reason"]),
            title=_("驳回掉单申诉"),
            submit_label=_("确认驳回"),
            label=_("驳回原因（分销商会看到）"),
            summary=self._summary(claim),
            danger=True,
            success=_("已驳回"),
        )
