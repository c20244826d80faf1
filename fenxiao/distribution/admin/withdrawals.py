"""提现: review, pay, fail, reject — one service call each — and the payout file export
(CSV / Excel) of the selected or the filtered withdrawals."""

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.decorators import action, display

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyAdmin, ReadOnlyInline, fen_column, label_display
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.core.money import format_fen

from ..models import RETRYABLE_PAYOUT, LedgerEntry, PayoutStatus, Withdrawal, WithdrawalStatus
from ..payouts import adapter_name
from ..services import ledger, payouts, withdrawals
from ..services.exports import PAYOUTS
from .common import (
    ConfirmForm,
    DistributorFilter,
    ReasonForm,
    ReferenceForm,
    badge,
    bulk_step,
    distributor_text,
    full_phones,
    labels,
    link,
    object_form_action,
    run_each,
    user_text,
    with_phone_flag,
)

WITHDRAWAL_LABELS = {
    WithdrawalStatus.REQUESTED: "warning",
    WithdrawalStatus.APPROVED: "info",
    WithdrawalStatus.PAID: "success",
    WithdrawalStatus.REJECTED: "default",
    WithdrawalStatus.FAILED: "danger",
}
ACCOUNT_LABELS = {
    "name": gettext_lazy("收款人"),
    "bank": gettext_lazy("开户银行"),
    "account": gettext_lazy("收款账号"),
    "openid": gettext_lazy("微信 OpenID"),
}


def describe(w: Withdrawal) -> str:
    return _("%(number)s（%(amount)s，%(status)s）") % {
        "number": w.number,
        "amount": format_fen(w.amount),
        "status": w.get_status_display(),
    }


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    fk_name = "withdrawal"
    fields = ("created_at", "kind", "amount_display", "note_display")
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "账户流水")

    amount_display = fen_column(gettext_lazy("金额"))

    @display(description=gettext_lazy("说明"))
    def note_display(self, obj):
        return obj.note_text or "-"


class PayoutProgressFilter(admin.SimpleListFilter):
    """打款进度 with its empty value named: the model's blank choice reads "-", which the
    merchant could not tell from a missing option. No automatic payout started: a bank
    transfer, store credit, or an electronic one not yet approved."""

    title = gettext_lazy("打款进度")
    parameter_name = "payout"
    NONE = "none"

    def lookups(self, request, model_admin):
        started = [(value, label) for value, label in PayoutStatus.choices if value]
        return [(self.NONE, _("未发起自动打款")), *started]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.NONE:
            return queryset.filter(payout_status=PayoutStatus.NONE)
        if value in PayoutStatus.values:
            return queryset.filter(payout_status=value)
        return queryset


@admin.register(Withdrawal)
class WithdrawalAdmin(ExportMixin, DetailActionsMixin, ReadOnlyAdmin):
    missing_message = gettext_lazy("提现单不存在")
    list_display = (
        "number",
        "distributor_display",
        "method",
        "account_display",
        "amount_display",
        "fee_display",
        "payout_display",
        "status_label",
        "created_at",
        "paid_at",
    )
    list_filter = (
        DistributorFilter,
        "status",
        PayoutProgressFilter,
        "method",
        ("created_at", LocalDateRangeFilter),
    )
    list_filter_submit = True
    search_fields = (
        "=number",
        "distributor__user__phone",
        "=distributor__referral_code",
        "distributor__real_name",
    )
    search_help_text = gettext_lazy("按完整提现单号、分销商手机号、完整推广码或真实姓名搜索")
    list_select_related = ("distributor__user",)
    list_per_page = 50
    inlines = (LedgerInline,)
    actions = (
        "approve_selected",
        "reject_selected",
        "mark_paid_selected",
        "mark_failed_selected",
        "retry_payout_selected",
    )
    # The payout file: the selected or the filtered withdrawals (core/admin_exports.py).
    export = PAYOUTS
    actions_detail = ("approve", "reject", "mark_paid", "mark_failed", "retry_payout", "cancel_payout")
    fieldsets = (
        (
            gettext_lazy("提现"),
            {
                "fields": (
                    "number",
                    "distributor_link",
                    "status_badge",
                    "method",
                    "account_display",
                    "amount_display",
                    "fee_display",
                    "payout_display",
                    "balance_display",
                )
            },
        ),
        (
            gettext_lazy("处理"),
            {
                "fields": (
                    "created_at",
                    "decided_by_display",
                    "decided_at",
                    "paid_at",
                    "payout_reference",
                    "payout_status",
                    "payout_attempts",
                    "payout_next_at",
                    "payout_last_error_display",
                    "payout_package_display",
                    "reject_reason",
                    "failure_reason_display",
                )
            },
        ),
    )
    readonly_fields = (
        "number",
        "distributor_link",
        "status_badge",
        "method",
        "account_display",
        "amount_display",
        "fee_display",
        "payout_display",
        "balance_display",
        "created_at",
        "decided_by_display",
        "decided_at",
        "paid_at",
        "payout_reference",
        "payout_status",
        "payout_attempts",
        "payout_next_at",
        "payout_last_error_display",
        "payout_package_display",
        "reject_reason",
        "failure_reason_display",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("distributor__user", "decided_by")
        return with_phone_flag(queryset, request)

    @display(description=gettext_lazy("最近一次打款错误"))
    def payout_last_error_display(self, obj):
        return obj.payout_last_error_text or "-"

    @display(description=gettext_lazy("失败原因"))
    def failure_reason_display(self, obj):
        return obj.failure_reason_text or "-"

    # Approving, paying, failing and rejecting move money: change permission, not view.
    def has_process_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_withdrawal")

    # --- columns ---

    @display(description=gettext_lazy("分销商"), ordering="distributor__user__phone")
    def distributor_display(self, obj):
        return distributor_text(obj.distributor, full_phones(obj))

    @display(description=gettext_lazy("分销商"))
    def distributor_link(self, obj):
        return link(obj.distributor, distributor_text(obj.distributor, full_phones(obj)))

    @display(description=gettext_lazy("收款账户"))
    def account_display(self, obj):
        # In full whoever looks: finance pays into it (an Alipay account may be a phone).
        account = obj.account or {}
        parts = [f"{ACCOUNT_LABELS.get(k, k)} {v}" for k, v in account.items() if v]
        return " · ".join(parts) or "-"

    amount_display = fen_column(gettext_lazy("提现金额"), ordering="amount")

    @display(description=gettext_lazy("收款确认"))
    def payout_package_display(self, obj):
        if obj.payout_package:
            return _("待分销商在微信中确认收款（逾期未确认，微信支付撤销转账，金额退回余额）")
        return "-"

    @display(description=gettext_lazy("手续费"))
    def fee_display(self, obj):
        return format_fen(obj.fee)

    @display(description=gettext_lazy("实际到账"))
    def payout_display(self, obj):
        return format_fen(obj.payout)

    @display(description=gettext_lazy("分销商当前余额"))
    def balance_display(self, obj):
        return format_fen(ledger.balance(obj.distributor_id))

    @label_display(description=gettext_lazy("状态"), ordering="status", label=labels(WITHDRAWAL_LABELS))
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return badge(obj.get_status_display(), WITHDRAWAL_LABELS.get(obj.status))

    @display(description=gettext_lazy("审核人"))
    def decided_by_display(self, obj):
        return user_text(obj.decided_by, full_phones(obj)) if obj.decided_by_id else "-"

    # --- bulk actions ---

    @action(description=gettext_lazy("审核通过所选提现"), permissions=["process"])
    def approve_selected(self, request, queryset):
        run_each(
            request,
            queryset,
            lambda w: withdrawals.approve(w, request.user),
            describe=describe,
            done=_("已审核通过"),
        )

    @action(description=gettext_lazy("拒绝所选提现"), permissions=["process"])
    def reject_selected(self, request, queryset):
        data, page = bulk_step(
            self,
            request,
            queryset,
            ReasonForm,
            title=_("拒绝提现"),
            submit_label=_("确认拒绝"),
            danger=True,
            describe=describe,
        )
        if page is not None:
            return page
        run_each(
            request,
            queryset,
            lambda w: withdrawals.reject(w, request.user, reason=data["reason"]),
            describe=describe,
            done=_("已拒绝（金额已退回余额）"),
        )
        return None

    @action(description=gettext_lazy("标记所选为已打款"), permissions=["process"])
    def mark_paid_selected(self, request, queryset):
        data, page = bulk_step(
            self,
            request,
            queryset,
            ReferenceForm,
            title=_("标记为已打款"),
            submit_label=_("确认已打款"),
            describe=describe,
        )
        if page is not None:
            return page
        run_each(
            request,
            queryset,
            lambda w: withdrawals.mark_paid(w, request.user, reference=data["reference"]),
            describe=describe,
            done=_("已标记为已打款"),
        )
        return None

    # The bank returns a day's failed transfers together: finance records them in one go.
    @action(description=gettext_lazy("标记所选为打款失败"), permissions=["process"])
    def mark_failed_selected(self, request, queryset):
        data, page = bulk_step(
            self,
            request,
            queryset,
            ReasonForm,
            title=_("标记打款失败"),
            submit_label=_("确认打款失败"),
            danger=True,
            describe=describe,
        )
        if page is not None:
            return page
        run_each(
            request,
            queryset,
            lambda w: withdrawals.mark_failed(w, request.user, reason=data["reason"]),
            describe=describe,
            done=_("已标记为打款失败（金额已退回余额）"),
        )
        return None

    @action(description=gettext_lazy("重试所选自动打款"), permissions=["process"])
    def retry_payout_selected(self, request, queryset):
        run_each(
            request,
            queryset,
            lambda w: payouts.retry_payout(w, request.user),
            describe=describe,
            done=_("已重新发起打款"),
        )

    # --- detail actions ---

    ACTIONS_BY_STATUS = {
        WithdrawalStatus.REQUESTED: {"approve", "reject"},
        WithdrawalStatus.APPROVED: {"mark_paid", "mark_failed"},
    }

    def detail_actions_for(self, withdrawal):
        allowed = set(self.ACTIONS_BY_STATUS.get(withdrawal.status, set()))
        if withdrawal.status == WithdrawalStatus.APPROVED and withdrawal.payout_status in RETRYABLE_PAYOUT:
            allowed.add("retry_payout")
        if (
            withdrawal.status == WithdrawalStatus.APPROVED
            and withdrawal.payout_status == PayoutStatus.WAITING
            and adapter_name(withdrawal.method)
        ):
            allowed.add("cancel_payout")
        # Only what the service would accept: a transfer still in flight is neither paid
        # nor failed by hand.
        if not withdrawals.may_mark_paid(withdrawal):
            allowed.discard("mark_paid")
        if not withdrawals.may_mark_failed(withdrawal):
            allowed.discard("mark_failed")
        return allowed

    def _summary(self, w: Withdrawal):
        return [
            (_("提现单号"), w.number),
            (_("分销商"), distributor_text(w.distributor, full_phones(w))),
            (_("状态"), w.get_status_display()),
            (_("提现方式"), w.get_method_display()),
            (_("收款账户"), self.account_display(w)),
            (_("提现金额"), format_fen(w.amount)),
            (_("手续费"), format_fen(w.fee)),
            (_("实际到账"), format_fen(w.payout)),
            (_("分销商当前余额"), format_fen(ledger.balance(w.distributor_id))),
        ]

    def _form_action(
        self,
        request,
        object_id,
        form_class,
        call,
        *,
        title,
        submit_label,
        success,
        danger=False,
        label=None,
    ):
        obj = self.object_or_404(request, object_id)
        return object_form_action(
            self,
            request,
            obj,
            form_class,
            call,
            title=_("%(title)s：%(number)s") % {"title": title, "number": obj.number},
            submit_label=submit_label,
            success=success,
            summary=self._summary(obj),
            danger=danger,
            label=label,
        )

    @action(
        description=gettext_lazy("审核通过"), url_path="approve", icon="check_circle", permissions=["process"]
    )
    def approve(self, request, object_id):
        def done(w):
            w.refresh_from_db()
            if w.status == WithdrawalStatus.PAID:
                return _("%(number)s 已审核通过并打款 %(amount)s") % {
                    "number": w.number,
                    "amount": format_fen(w.payout),
                }
            if w.status == WithdrawalStatus.FAILED:
                return _("%(number)s 已审核通过，但打款失败：%(reason)s（金额已退回余额）") % {
                    "number": w.number,
                    "reason": w.failure_reason_text,
                }
            if not w.payout_status:
                return _("%(number)s 已审核通过，请转账 %(amount)s 后标记为已打款") % {
                    "number": w.number,
                    "amount": format_fen(w.payout),
                }
            return _("%(number)s 已审核通过，等待打款") % {"number": w.number}

        return self._form_action(
            request,
            object_id,
            ConfirmForm,
            lambda w, data: withdrawals.approve(w, request.user),
            title=_("审核提现"),
            submit_label=_("审核通过"),
            success=done,
        )

    @action(description=gettext_lazy("拒绝"), url_path="reject", icon="block", permissions=["process"])
    def reject(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ReasonForm,
            lambda w, data: withdrawals.reject(w, request.user, reason=data["reason"]),
            title=_("拒绝提现"),
            submit_label=_("确认拒绝"),
            danger=True,
            label=_("拒绝原因"),
            success=_("已拒绝，提现金额已退回分销商余额"),
        )

    @action(description=gettext_lazy("标记已打款"), url_path="paid", icon="paid", permissions=["process"])
    def mark_paid(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ReferenceForm,
            lambda w, data: withdrawals.mark_paid(w, request.user, reference=data["reference"]),
            title=_("标记已打款"),
            submit_label=_("确认已打款"),
            success=_("已标记为已打款"),
        )

    @action(
        description=gettext_lazy("标记打款失败"), url_path="failed", icon="error", permissions=["process"]
    )
    def mark_failed(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ReasonForm,
            lambda w, data: withdrawals.mark_failed(w, request.user, reason=data["reason"]),
            title=_("标记打款失败"),
            submit_label=_("确认打款失败"),
            danger=True,
            label=_("失败原因"),
            success=_("已标记为打款失败，金额已退回分销商余额"),
        )

    @action(
        description=gettext_lazy("重试打款"), url_path="retry-payout", icon="replay", permissions=["process"]
    )
    def retry_payout(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ConfirmForm,
            lambda w, data: payouts.retry_payout(w, request.user),
            title=_("重试自动打款"),
            submit_label=_("重新发起打款"),
            success=_("已重新发起打款（同一提现单号，不会重复到账）"),
        )

    @action(
        description=gettext_lazy("撤销转账"), url_path="cancel-payout", icon="undo", permissions=["process"]
    )
    def cancel_payout(self, request, object_id):
        def done(w):
            w.refresh_from_db()
            if w.status == WithdrawalStatus.FAILED:
                return _("%(number)s 的转账已撤销，金额已退回分销商余额") % {"number": w.number}
            if w.status == WithdrawalStatus.PAID:
                return _("%(number)s 已到账，无法撤销") % {"number": w.number}
            return _("%(number)s 撤销中，结果稍后更新") % {"number": w.number}

        return self._form_action(
            request,
            object_id,
            ConfirmForm,
            lambda w, data: payouts.cancel_payout(w, request.user),
            title=_("撤销转账"),
            submit_label=_("撤销转账"),
            success=done,
        )
