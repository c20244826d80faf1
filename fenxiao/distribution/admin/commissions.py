"""佣金记录 (read only, with the "why ¥X" of each) and 结算批次 (create, run, approve, cancel)."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.contrib.filters.admin import TextFilter
from unfold.decorators import action, display

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyAdmin, ReadOnlyInline, fen_column, label_display
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter, action_page
from fenxiao.core.money import format_bp, format_fen

from ..models import (
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    RuleSource,
    SettlementBatch,
    SettlementMode,
)
from ..services import config, dashboard, risk, settlement
from ..services.exports import COMMISSIONS
from .common import (
    ConfirmForm,
    DistributorFilter,
    ReasonForm,
    badge,
    bulk_step,
    change_url,
    changelist_url,
    distributor_text,
    form_page,
    full_phones,
    labels,
    link,
    local_time,
    run,
    run_each,
    user_text,
    with_phone_flag,
)

COMMISSION_LABELS = {
    CommissionStatus.PENDING: "warning",
    CommissionStatus.FROZEN: "info",
    CommissionStatus.SETTLED: "success",
    CommissionStatus.CANCELLED: "danger",
}
BATCH_LABELS = {
    SettlementBatch.Status.PENDING_REVIEW: "warning",
    SettlementBatch.Status.RUNNING: "info",
    SettlementBatch.Status.SETTLED: "success",
    SettlementBatch.Status.CANCELLED: "default",
}
BATCH_ROWS = 50


class CommissionAdjustmentInline(ReadOnlyInline):
    model = CommissionAdjustment
    fields = ("time_display", "kind", "amount_display", "refunded_display", "note_display")
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "冲减记录")

    @display(description=gettext_lazy("时间"))
    def time_display(self, obj):
        return local_time(obj.created_at)

    amount_display = fen_column(gettext_lazy("冲减金额"))

    @display(description=gettext_lazy("商品累计退款"))
    def refunded_display(self, obj):
        return format_fen(obj.refunded_base)

    @display(description=gettext_lazy("说明"))
    def note_display(self, obj):
        return obj.note_text or "-"


def _status_text(commission: Commission) -> str:
    text = commission.get_status_display()
    return _("%(status)s（风控审核中）") % {"status": text} if commission.under_review else text


class OrderFilter(TextFilter):
    """?order=<order number or id>: every commission one order earned."""

    title = gettext_lazy("订单号或订单 ID")
    parameter_name = "order"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return dashboard.for_order(queryset, value[:32]) if value else queryset


@admin.register(Commission)
class CommissionAdmin(ExportMixin, ReadOnlyAdmin):
    list_display = (
        "id",
        "order_number",
        "product_display",
        "distributor_display",
        "level",
        "status_label",
        "base_display",
        "amount_display",
        "reversed_display",
        "net_display",
        "rule_display",
        "frozen_until",
    )
    # Finance reconciles and exports a period: by when commission arose or was settled.
    list_filter = (
        OrderFilter,
        DistributorFilter,
        "status",
        "under_review",
        "level",
        "rule_source",
        ("created_at", LocalDateRangeFilter),
        ("settled_at", LocalDateRangeFilter),
    )
    list_filter_submit = True
    search_fields = (
        "=order__number",
        "distributor__user__phone",
        "=distributor__referral_code",
        "order_line__product_name",
        "offline_label",
    )
    search_help_text = gettext_lazy("按完整订单号、分销商手机号、完整推广码、商品名称或门店收银单搜索")
    list_select_related = ("order", "order_line", "distributor__user", "rule")
    list_per_page = 50
    export = COMMISSIONS
    inlines = (CommissionAdjustmentInline,)
    actions = ("hold_selected",)
    fieldsets = (
        (
            gettext_lazy("佣金"),
            {"fields": ("order_link", "product_display", "distributor_link", "level", "status_badge", "why")},
        ),
        (
            gettext_lazy("金额"),
            {
                "fields": (
                    "base_display",
                    "quantity",
                    "rule_kind",
                    "rate_display",
                    "fixed_display",
                    "bonus_display",
                    "team_display",
                    "capped_display",
                    "amount_display",
                    "reversed_display",
                    "net_display",
                )
            },
        ),
        (
            gettext_lazy("规则"),
            {"fields": ("rule_source", "rule_link", "rule_version", "grade_name", "settings_version")},
        ),
        (gettext_lazy("时间"), {"fields": ("created_at", "frozen_until", "settled_at", "batch_link")}),
    )
    readonly_fields = (
        "order_link",
        "product_display",
        "distributor_link",
        "level",
        "status_badge",
        "why",
        "base_display",
        "quantity",
        "rule_kind",
        "rate_display",
        "fixed_display",
        "bonus_display",
        "team_display",
        "capped_display",
        "amount_display",
        "reversed_display",
        "net_display",
        "rule_source",
        "rule_link",
        "rule_version",
        "grade_name",
        "settings_version",
        "created_at",
        "frozen_until",
        "settled_at",
        "batch_link",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return with_phone_flag(
            queryset.select_related("order", "order_line", "distributor__user", "rule", "batch"), request
        )

    # Holding decides what a distributor is paid, as 风控审核 does: its change permission.
    def has_hold_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_riskreview")

    @action(description=gettext_lazy("人工暂扣（送风控审核）"), permissions=["hold"])
    def hold_selected(self, request, queryset):
        data, page = bulk_step(
            self,
            request,
            queryset,
            ReasonForm,
            title=_("人工暂扣佣金"),
            submit_label=_("确认暂扣"),
            danger=True,
            describe=lambda c: f"#{c.pk} {c.order.number if c.order_id else c.offline_label}",
        )
        if page is not None:
            return page
        # One case per order and distributor, as the guards hold them.
        pairs = sorted(set(queryset.filter(order__isnull=False).values_list("order_id", "distributor_id")))
        run_each(
            request,
            pairs,
            lambda pair: risk.hold(*pair, request.user, reason=data["reason"]),
            describe=lambda pair: (
                _("订单#%(order)s 分销商#%(distributor)s") % {"order": pair[0], "distributor": pair[1]}
            ),
            done=_("已暂扣，请在风控审核中放行或作废"),
        )
        if queryset.filter(order__isnull=True).exists():
            messages.warning(request, _("门店收银的佣金不能暂扣，已跳过"))
        return None

    @display(description=gettext_lazy("订单号"), ordering="order__number")
    def order_number(self, obj):
        # A till sale's commission has no order: it names the sale (门店收银 …).
        return obj.offline_label if obj.is_offline else obj.order.number

    @display(description=gettext_lazy("订单"))
    def order_link(self, obj):
        return obj.offline_label if obj.is_offline else link(obj.order, obj.order.number)

    @display(description=gettext_lazy("商品"))
    def product_display(self, obj):
        if obj.is_offline:
            return obj.item_name
        line = obj.order_line
        return f"{line.product_name} {line.spec_text}".strip()

    @display(description=gettext_lazy("分销商"))
    def distributor_display(self, obj):
        return distributor_text(obj.distributor, full_phones(obj))

    @display(description=gettext_lazy("分销商"))
    def distributor_link(self, obj):
        return link(obj.distributor, distributor_text(obj.distributor, full_phones(obj)))

    @label_display(description=gettext_lazy("状态"), ordering="status", label=labels(COMMISSION_LABELS))
    def status_label(self, obj):
        return obj.status, _status_text(obj)

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return badge(_status_text(obj), COMMISSION_LABELS.get(obj.status))

    @display(description=gettext_lazy("为什么是这个金额"))
    def why(self, obj):
        return dashboard.why(obj)

    @display(description=gettext_lazy("计佣金额"), ordering="base")
    def base_display(self, obj):
        return format_fen(obj.base)

    amount_display = fen_column(gettext_lazy("佣金"), ordering="amount")

    @display(description=gettext_lazy("已冲减"))
    def reversed_display(self, obj):
        return format_fen(obj.reversed_amount)

    @display(description=gettext_lazy("实得"))
    def net_display(self, obj):
        return format_fen(obj.net_amount)

    @display(description=gettext_lazy("比例"))
    def rate_display(self, obj):
        return format_bp(obj.rate_bp)

    @display(description=gettext_lazy("固定金额"))
    def fixed_display(self, obj):
        return _("%(amount)s/件") % {"amount": format_fen(obj.fixed_per_unit)}

    @display(description=gettext_lazy("阶梯奖励"))
    def bonus_display(self, obj):
        return format_bp(obj.bonus_bp)

    @display(description=gettext_lazy("团队佣金"))
    def team_display(self, obj):
        return format_bp(obj.team_bp)

    @display(description=gettext_lazy("封顶扣减"))
    def capped_display(self, obj):
        return format_fen(obj.capped)

    @display(description=gettext_lazy("规则来源"))
    def rule_display(self, obj):
        text = obj.get_rule_source_display()
        if obj.rule_source == RuleSource.PROMOTION:
            text += _("「%(name)s」") % {"name": obj.rule_name}
        elif obj.rule_id:
            text += f"“{dashboard.rule_name(obj)}” v{obj.rule_version}"
        return text

    @display(description=gettext_lazy("规则"))
    def rule_link(self, obj):
        return link(obj.rule, dashboard.rule_name(obj)) if obj.rule_id else "-"

    @display(description=gettext_lazy("结算批次"))
    def batch_link(self, obj):
        return link(obj.batch) if obj.batch_id else "-"


@admin.register(SettlementBatch)
class SettlementBatchAdmin(DetailActionsMixin, ReadOnlyAdmin):
    missing_message = gettext_lazy("结算批次不存在")
    list_display = (
        "__str__",
        "mode",
        "status_label",
        "cutoff",
        "commission_count",
        "total_display",
        "created_at",
        "created_by_display",
        "approved_by_display",
        "approved_at",
    )
    list_filter = ("status", "mode", ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    list_select_related = ("created_by", "approved_by")
    actions_list = ("create_batch", "settle_now")

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request), request)

    actions_detail = ("approve_batch", "cancel_batch", "resume_batch")
    fields = (
        "mode",
        "status_badge",
        "cutoff",
        "commission_count",
        "total_display",
        "created_at",
        "created_by_display",
        "approved_by_display",
        "approved_at",
        "commissions_table",
    )
    readonly_fields = fields

    # A named permission, not "distribution.add_settlementbatch" in @action: unfold checks dotted
    # names against the database at start-up, before migrations have run.
    def has_run_permission(self, request, obj=None):
        return request.user.has_perm("distribution.add_settlementbatch")

    def has_decide_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_settlementbatch")

    @label_display(description=gettext_lazy("状态"), ordering="status", label=labels(BATCH_LABELS))
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return badge(obj.get_status_display(), BATCH_LABELS.get(obj.status))

    @display(description=gettext_lazy("结算金额"), ordering="total")
    def total_display(self, obj):
        return format_fen(obj.total)

    @display(description=gettext_lazy("创建人"))
    def created_by_display(self, obj):
        return user_text(obj.created_by) if obj.created_by_id else _("系统")

    @display(description=gettext_lazy("审核人"))
    def approved_by_display(self, obj):
        return user_text(obj.approved_by) if obj.approved_by_id else "-"

    @display(description=gettext_lazy("佣金明细"))
    def commissions_table(self, obj):
        rows = list(
            Commission.objects.filter(batch=obj)
            .select_related("order", "order_line", "distributor__user")
            .order_by("id")[: BATCH_ROWS + 1]
        )
        if not rows:
            return _("该批次没有佣金")
        table = format_html_join(
            "",
            "<div>{} · {} · {} · {} · {} · {}</div>",
            (
                (
                    link(c, f"#{c.pk}"),
                    c.offline_label if c.is_offline else c.order.number,
                    distributor_text(c.distributor, full_phones(obj)),
                    _("%(level)s级") % {"level": c.level},
                    c.get_status_display(),
                    format_fen(c.net_amount),
                )
                for c in rows[:BATCH_ROWS]
            ),
        )
        url = changelist_url(Commission, batch__id__exact=obj.pk)
        return format_html(
            _('{}<a class="text-primary-600" href="{}">查看全部 {} 笔</a>'), table, url, obj.commission_count
        )

    def _back(self):
        return changelist_url(SettlementBatch)

    @action(
        description=gettext_lazy("生成结算批次"),
        url_path="create-batch",
        icon="playlist_add",
        permissions=["run"],
    )
    def create_batch(self, request):
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            batch, ok = run(request, lambda: settlement.create_batch(staff=request.user), form)
            if ok:
                if batch is None:
                    messages.warning(request, _("当前没有可结算的佣金（冻结期未满或有未完结的售后）"))
                    return HttpResponseRedirect(self._back())
                messages.success(
                    request,
                    _("已生成%(batch)s：%(count)s 笔，%(total)s，请审核后结算")
                    % {"batch": batch, "count": batch.commission_count, "total": format_fen(batch.total)},
                )
                return HttpResponseRedirect(change_url(batch))
        cfg = config.current()
        return form_page(
            self,
            request,
            title=_("生成结算批次"),
            form=form,
            submit_label=_("生成批次"),
            summary=[
                (_("当前结算方式"), cfg.get_settlement_mode_display()),
                (
                    _("说明"),
                    _("收集冻结期已满、没有未完结售后的佣金，生成待审核的结算批次；审核通过后计入分销商余额"),
                ),
            ],
        )

    @action(description=gettext_lazy("立即结算"), url_path="settle-now", icon="bolt", permissions=["run"])
    def settle_now(self, request):
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            batch, ok = run(request, lambda: settlement.settle_due(staff=request.user), form)
            if ok:
                if batch is None:
                    messages.warning(request, _("当前没有可结算的佣金（冻结期未满或有未完结的售后）"))
                    return HttpResponseRedirect(self._back())
                messages.success(
                    request,
                    _("已结算 %(count)s 笔佣金，共 %(total)s，已计入分销商余额")
                    % {"count": batch.commission_count, "total": format_fen(batch.total)},
                )
                return HttpResponseRedirect(change_url(batch))
        cfg = config.current()
        summary = [
            (_("当前结算方式"), cfg.get_settlement_mode_display()),
            (
                _("说明"),
                _("立即把冻结期已满、没有未完结售后的佣金计入分销商余额（与自动结算相同），不经审核"),
            ),
        ]
        if cfg.settlement_mode == SettlementMode.MANUAL:
            summary.append((_("注意"), _("当前为人工审核结算，通常应使用“生成结算批次”")))
        return form_page(
            self,
            request,
            title=_("立即结算"),
            form=form,
            submit_label=_("立即结算"),
            danger=True,
            summary=summary,
        )

    def detail_actions_for(self, batch):
        return {
            SettlementBatch.Status.PENDING_REVIEW: {"approve_batch", "cancel_batch"},
            SettlementBatch.Status.RUNNING: {"resume_batch"},
        }.get(batch.status, set())

    def _summary(self, batch):
        return [
            (_("批次"), str(batch)),
            (_("状态"), batch.get_status_display()),
            (_("佣金笔数"), batch.commission_count),
            (_("结算金额"), format_fen(batch.total)),
            (_("结算截止"), local_time(batch.cutoff)),
        ]

    @action(
        description=gettext_lazy("审核通过并结算"),
        url_path="approve",
        icon="check_circle",
        permissions=["decide"],
    )
    def approve_batch(self, request, object_id):
        batch = self.object_or_404(request, object_id)
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            _result, ok = run(
                request,
                lambda: settlement.approve_batch(batch, request.user),
                form,
                success=lambda b: (
                    _("%(batch)s 已结算：%(count)s 笔，%(total)s")
                    % {"batch": b, "count": b.commission_count, "total": format_fen(b.total)}
                ),
            )
            if ok:
                return HttpResponseRedirect(change_url(batch))
        return action_page(
            self,
            request,
            batch,
            title=_("审核结算：%(batch)s") % {"batch": batch},
            form=form,
            summary=self._summary(batch),
            submit_label=_("审核通过并结算"),
        )

    @action(description=gettext_lazy("继续结算"), url_path="resume", icon="replay", permissions=["decide"])
    def resume_batch(self, request, object_id):
        batch = self.object_or_404(request, object_id)
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            done, ok = run(request, lambda: settlement.resume_batch(batch, request.user), form)
            if ok:
                if done is None:  # everything had been settled by other runs: nothing left
                    messages.success(request, _("批次中的佣金均已由其他结算完成，无需继续"))
                    return HttpResponseRedirect(self._back())
                messages.success(
                    request,
                    _("%(batch)s 已结算：%(count)s 笔，%(total)s")
                    % {"batch": done, "count": done.commission_count, "total": format_fen(done.total)},
                )
                return HttpResponseRedirect(change_url(done))
        return action_page(
            self,
            request,
            batch,
            title=_("继续结算：%(batch)s") % {"batch": batch},
            form=form,
            summary=self._summary(batch)
            + [(_("说明"), _("该批次结算中断（如服务重启）。继续结算只处理尚未结算的佣金，不会重复入账"))],
            submit_label=_("继续结算"),
        )

    @action(description=gettext_lazy("作废批次"), url_path="cancel", icon="cancel", permissions=["decide"])
    def cancel_batch(self, request, object_id):
        batch = self.object_or_404(request, object_id)
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            _result, ok = run(
                request,
                lambda: settlement.cancel_batch(batch, request.user),
                form,
                success=_("%(batch)s 已作废，其中的佣金可进入下一批次") % {"batch": batch},
            )
            if ok:
                return HttpResponseRedirect(change_url(batch))
        return action_page(
            self,
            request,
            batch,
            title=_("作废结算批次：%(batch)s") % {"batch": batch},
            form=form,
            summary=self._summary(batch),
            submit_label=_("确认作废"),
            danger=True,
        )
