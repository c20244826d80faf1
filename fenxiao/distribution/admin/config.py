"""分销设置 (one record, every change versioned and logged) and its change history."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminSplitDateTimeWidget,
    UnfoldAdminTextareaWidget,
)

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyAdmin, SafeAutocompleteMixin
from fenxiao.core.admin_forms import (
    MoneyFieldsMixin,
    PercentField,
    PercentFieldsMixin,
    action_page,
    confirm_action,
    posted,
)
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_bp, format_fen

from ..errors import TooManyLevels
from ..models import (
    MAX_FREEZE_DAYS,
    DistributionSettings,
    DistributorGrade,
    PayoutMethod,
    ScheduledChange,
    SettingsChange,
)
from ..services import agreement, config, scheduled, simulation
from .common import (
    ServiceSaveMixin,
    change_url,
    changelist_url,
    local_time,
    run,
    run_each,
    user_text,
)

SETTINGS_MONEY_FIELDS = ("condition_amount", "withdraw_min", "withdraw_max")


def _value_text(name: str, value) -> str:
    """One value of a settings field as staff read it (¥, 是/否, choice labels)."""
    try:
        field = DistributionSettings._meta.get_field(name)
    except FieldDoesNotExist:  # a field removed since the change was logged
        return str(value)
    if value is None or value == "":
        return "-"
    if name in SETTINGS_MONEY_FIELDS and isinstance(value, int):
        return format_fen(value)
    if name.endswith("_bp") and isinstance(value, int):
        return format_bp(value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if name == "agreement_text" and len(value) > 40:
        # The whole terms are kept in their versions; the change log names them briefly.
        return _("%(start)s…（共 %(count)s 字）") % {"start": value[:40], "count": len(value)}
    if name == "withdraw_methods":
        names = dict(PayoutMethod.choices)
        return _("、").join(str(names.get(v, v)) for v in value) or _("全部")
    if name == "condition_products":
        from fenxiao.catalog.models import Product

        names = dict(Product.objects.filter(pk__in=value).values_list("pk", "name"))
        return _("、").join(names.get(pk, f"#{pk}") for pk in value) or _("无")
    if field.choices:
        return str(dict(field.choices).get(value, value))
    return str(value)


def describe_changes(changes: dict) -> list[tuple[str, str, str]]:
    rows = []
    for name, pair in (changes or {}).items():
        try:
            # Amounts show as ¥… and rates as %, so the column's unit would only mislead.
            label = str(DistributionSettings._meta.get_field(name).verbose_name)
            label = label.replace(_("（分）"), "").replace(_("（基点）"), "")
        except FieldDoesNotExist:
            label = name
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        rows.append((label, _value_text(name, before), _value_text(name, after)))
    return rows


def effective_at_field() -> forms.SplitDateTimeField:
    return forms.SplitDateTimeField(
        label=gettext_lazy("生效时间"),
        required=False,
        widget=UnfoldAdminSplitDateTimeWidget,
        help_text=gettext_lazy(
            "留空则保存后立即生效；填写将来的时间，则本次修改到时自动生效（之前付款的订单仍按原设置计佣）"
        ),
    )


def pending_changes_html(changes) -> str:
    """The pending scheduled changes of a record, each with its time and a link."""
    rows = [
        (
            change_url(c),
            local_time(c.effective_at),
            _("；").join(
                _("%(label)s：%(before)s → %(after)s") % {"label": a, "before": b, "after": d}
                for a, b, d in describe(c)
            ),
        )
        for c in changes
    ]
    if not rows:
        return _("无")
    return format_html_join("", _('<div><a class="text-primary-600" href="{}">{} 生效</a>：{}</div>'), rows)


def describe(change: ScheduledChange) -> list[tuple[str, str, str]]:
    """(label, now, then) of each field a scheduled change sets."""
    if change.target == ScheduledChange.Target.SETTINGS:
        current = config.settings_values(config.current())
        return describe_changes({name: [current.get(name), value] for name, value in change.changes.items()})
    from .rules import rule_change_rows

    return rule_change_rows(change.rule, change.changes)


class AgreementTextField(forms.CharField):
    """Browsers post line breaks as \r\n: the terms count as changed (a new version that
    distributors are asked to agree to) only when their words changed."""

    def has_changed(self, initial, data):
        return agreement.normalise(initial) != agreement.normalise(data)


class SettingsForm(forms.ModelForm):
    effective_at = effective_at_field()
    agreement_text = AgreementTextField(
        label=DistributionSettings._meta.get_field("agreement_text").verbose_name,
        help_text=DistributionSettings._meta.get_field("agreement_text").help_text,
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 14}),
    )
    withdraw_methods = forms.MultipleChoiceField(
        label=gettext_lazy("提现方式"),
        choices=PayoutMethod.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=gettext_lazy("都不勾选表示全部开放"),
    )

    class Meta:
        model = DistributionSettings
        fields = config.TRACKED

    def _get_validation_exclusions(self):
        # The service's validate() checks these with the messages staff should see
        # (e.g. "最多 3 级，超过涉嫌传销"), not a database constraint's name.
        return super()._get_validation_exclusions() | {"levels", "max_commission_bp"}

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            config.validate(self.instance)
        except TooManyLevels as exc:
            self.add_error("levels", exc.message)
        except DomainError as exc:
            self.add_error(None, exc.message)
        else:
            try:
                config.check_condition_products(
                    self.instance, self.cleaned_data.get("condition_products") or []
                )
            except DomainError as exc:
                self.add_error("condition_products", exc.message)


class ReplayForm(forms.Form):
    """How far back a what-if (佣金模拟) replays."""

    months = forms.TypedChoiceField(
        label=gettext_lazy("回放最近"),
        choices=lambda: [(n, ngettext("%(n)s 个月", "%(n)s 个月", n) % {"n": n}) for n in (1, 3, 6, 12)],
        coerce=int,
        initial=3,
    )


def start_simulation(request, form: ReplayForm):
    """Queue the what-if a valid posted `form` drafts (its `draft()`) and send staff to its
    job; None to show the form again (invalid, or refused with the reason on it)."""
    if request.method != "POST" or not form.is_valid():
        return None
    changes, months = form.draft()
    try:
        job = simulation.start(request.user, changes, months)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return None
    messages.success(request, _("已开始模拟，完成后在此查看结果并下载分销商明细"))
    return HttpResponseRedirect(reverse("admin:core_job_change", args=[job.pk]))


class SimulationForm(ReplayForm):
    """A draft of the settings a what-if replays (佣金模拟): levels, default rates, cap, freeze."""

    levels = forms.TypedChoiceField(
        label=gettext_lazy("分销层级"),
        choices=lambda: [(n, ngettext("%(n)s 级", "%(n)s 级", n) % {"n": n}) for n in (1, 2, 3)],
        coerce=int,
    )
    level1_bp = PercentField(label=gettext_lazy("默认一级佣金（%）"))
    level2_bp = PercentField(label=gettext_lazy("默认二级佣金（%）"))
    level3_bp = PercentField(label=gettext_lazy("默认三级佣金（%）"))
    max_commission_bp = PercentField(label=gettext_lazy("单商品佣金上限（%）"))
    freeze_days = forms.IntegerField(
        label=gettext_lazy("冻结期（天）"),
        min_value=0,
        max_value=MAX_FREEZE_DAYS,
        help_text=gettext_lazy("订单完成后佣金冻结的天数；售后期未结束时也不会结算"),
    )

    def __init__(self, *args, grades=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Each grade's rates, as the grade sets them now: a blank level follows the default.
        self.grades = list(grades)
        for grade in self.grades:
            for name, label in simulation.GRADE_FIELDS.items():
                key = f"grade_{grade.pk}_{name}"
                self.fields[key] = PercentField(
                    label=_("%(grade)s · %(level)s佣金（%%）") % {"grade": grade.name, "level": label},
                    required=name == "team_bp",
                    help_text=_("留空则使用默认比例") if name != "team_bp" else "",
                )
                self.initial.setdefault(key, getattr(grade, name))

    def draft(self) -> tuple[dict, int]:
        """(the changes a valid form drafts, the months to replay)."""
        data = dict(self.cleaned_data)
        changes = {name: data[name] for name in simulation.DRAFT_FIELDS}
        changes["grades"] = {
            str(grade.pk): {name: data[f"grade_{grade.pk}_{name}"] for name in simulation.GRADE_FIELDS}
            for grade in self.grades
        }
        return changes, data["months"]


@admin.register(DistributionSettings)
class DistributionSettingsAdmin(
    SafeAutocompleteMixin, PercentFieldsMixin, MoneyFieldsMixin, ServiceSaveMixin, ModelAdmin
):
    form = SettingsForm
    money_fields = SETTINGS_MONEY_FIELDS
    autocomplete_fields = ("condition_products",)
    fieldsets = (
        (
            gettext_lazy("分销层级与佣金"),
            {
                "fields": (
                    "levels",
                    "level1_bp",
                    "level2_bp",
                    "level3_bp",
                    "max_commission_bp",
                    "self_purchase",
                ),
                "description": gettext_lazy(
                    "佣金层级最多 3 级；只对真实商品销售计佣，不收入门费、不按拉人头计酬"
                ),
            },
        ),
        (
            gettext_lazy("成为分销商"),
            {
                "fields": (
                    "enable_mode",
                    "review_mode",
                    "require_real_name",
                    "condition_kind",
                    "condition_amount",
                    "condition_orders",
                    "condition_products",
                )
            },
        ),
        (
            gettext_lazy("分销商协议"),
            {
                "fields": ("agreement_text", "agreement_required"),
                "description": gettext_lazy(
                    "分销商申请前阅读并同意的协议；可在 分销商 列表按“协议”筛选谁已同意当前版本"
                ),
            },
        ),
        (gettext_lazy("客户绑定"), {"fields": ("bind_mode", "bind_days", "protect_days", "new_buyers_only")}),
        (
            gettext_lazy("结算"),
            {
                "fields": (
                    "freeze_days",
                    "settlement_mode",
                    "settlement_cycle",
                    "settlement_weekday",
                    "settlement_monthday",
                )
            },
        ),
        (
            gettext_lazy("风控"),
            {
                "fields": ("risk_guard", "risk_refund_orders", "risk_refund_rate_bp"),
                "description": gettext_lazy("暂扣的佣金在 分销 → 风控审核 中放行或作废；放行后照常结算"),
            },
        ),
        (
            gettext_lazy("提现"),
            {
                "fields": (
                    "withdraw_min",
                    "withdraw_max",
                    "withdraw_fee_bp",
                    "withdraw_limit",
                    "withdraw_period",
                    "withdraw_methods",
                )
            },
        ),
        (
            gettext_lazy("生效时间与变更记录"),
            {"fields": ("effective_at", "pending_changes", "version", "updated_at", "change_history")},
        ),
    )
    readonly_fields = ("version", "updated_at", "change_history", "pending_changes")
    # Only the day the chosen cycle settles on: 周结日 with 周结, 月结日 with 月结.
    conditional_fields = {
        "settlement_weekday": "settlement_cycle == 'weekly'",
        "settlement_monthday": "settlement_cycle == 'monthly'",
    }

    actions_detail = ("simulate",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @action(
        description=gettext_lazy("佣金模拟"), url_path="simulate", icon="query_stats", permissions=["change"]
    )
    def simulate(self, request, object_id):
        """What-if: replay recent orders under a draft of these settings, in the 任务中心."""
        cfg = config.current()
        initial = {name: getattr(cfg, name) for name in simulation.DRAFT_FIELDS}
        form = SimulationForm(
            posted(request), initial=initial, grades=DistributorGrade.objects.order_by("weight")
        )
        started = start_simulation(request, form)
        if started is not None:
            return started
        return action_page(
            self,
            request,
            cfg,
            title=_("佣金模拟：用最近的真实订单试算新方案"),
            form=form,
            submit_label=_("开始模拟"),
            summary=[
                (
                    _("说明"),
                    _("按草稿方案重算所选期间每笔分销订单的佣金，与实际发放对比；不修改任何设置或佣金"),
                ),
                (
                    _("不变的部分"),
                    _(
                        "阶梯奖励（按当时所得）、门店导购比例、订单归属（按当前等级）；"
                        "商品 / SKU / 分类规则在各规则页单独模拟"
                    ),
                ),
                (
                    _("冻结期"),
                    _(
                        "只改变佣金何时可结算：结果列出冻结期满（且售后期结束）后才申请、需从分销商余额追回佣金的退款"
                    ),
                ),
            ],
        )

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        cfg = config.current()
        return HttpResponseRedirect(reverse("admin:distribution_distributionsettings_change", args=[cfg.pk]))

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in config.TRACKED}
        effective_at = form.cleaned_data.get("effective_at")
        if effective_at:
            # The record stays as it is: the change is kept and applied at its time.
            obj.refresh_from_db()
            request._scheduled_at = effective_at
            self._save_via(request, lambda: scheduled.schedule_settings(request.user, effective_at, changes))
            return
        if not changes:
            return
        if self._save_via(request, lambda: config.update_settings(request.user, **changes)):
            obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        """condition_products went through update_settings with everything else."""

    def response_change(self, request, obj):
        if self._refused(request):
            return HttpResponseRedirect(request.get_full_path())
        when = getattr(request, "_scheduled_at", None)
        if when:
            messages.success(
                request,
                _("已安排于 %(when)s 生效；在此之前仍按当前设置（版本 %(version)s）计佣")
                % {"when": local_time(when), "version": obj.version},
            )
        else:
            messages.success(request, _("分销设置已保存（版本 %(version)s）") % {"version": obj.version})
        return HttpResponseRedirect(reverse("admin:distribution_distributionsettings_change", args=[obj.pk]))

    @display(description=gettext_lazy("待生效的变更"))
    def pending_changes(self, obj):
        return pending_changes_html(scheduled.pending_for(ScheduledChange.Target.SETTINGS))

    @display(description=gettext_lazy("最近变更"))
    def change_history(self, obj):
        changes = list(SettingsChange.objects.select_related("changed_by")[:10])
        if not changes:
            return _("暂无变更")
        blocks = []
        for change in changes:
            rows = describe_changes(change.changes)
            blocks.append(
                (
                    change.version,
                    local_time(change.created_at),
                    user_text(change.changed_by),
                    format_html_join("", _("<div>{}：{} → {}</div>"), rows) if rows else "-",
                )
            )
        table = format_html_join(
            "", '<div class="mb-3"><div class="font-semibold">v{} · {} · {}</div>{}</div>', blocks
        )
        return format_html(
            _('{}<a class="text-primary-600" href="{}">查看全部变更记录</a>'),
            table,
            changelist_url(SettingsChange),
        )


@admin.register(SettingsChange)
class SettingsChangeAdmin(ReadOnlyAdmin):
    list_display = ("version", "changed_by_display", "summary", "created_at")
    list_select_related = ("changed_by",)
    search_fields = ("=version",)
    search_help_text = gettext_lazy("按完整版本号搜索")
    fields = ("version", "changed_by_display", "created_at", "details")
    readonly_fields = fields

    @display(description=gettext_lazy("修改人"))
    def changed_by_display(self, obj):
        return user_text(obj.changed_by)

    @display(description=gettext_lazy("变更内容"))
    def summary(self, obj):
        rows = describe_changes(obj.changes)
        text = _("；").join(
            _("%(label)s：%(before)s → %(after)s") % {"label": label, "before": before, "after": after}
            for label, before, after in rows[:4]
        )
        if len(rows) > 4:
            text += _(" 等 %(count)s 项") % {"count": len(rows)}
        return text or "-"

    @display(description=gettext_lazy("变更明细"))
    def details(self, obj):
        rows = describe_changes(obj.changes)
        if not rows:
            return "-"
        return format_html_join("", _("<div>{}：{} → {}</div>"), rows)


@admin.register(ScheduledChange)
class ScheduledChangeAdmin(DetailActionsMixin, ReadOnlyAdmin):
    """定时生效的变更: what waits for its time, what took effect and what could not."""

    missing_message = gettext_lazy("变更不存在")
    list_display = (
        "effective_display",
        "target_display",
        "changes_display",
        "status",
        "created_display",
        "result",
    )
    list_filter = ("status", "target")
    list_select_related = ("rule", "created_by")
    actions = ("cancel_selected",)
    actions_detail = ("cancel",)
    fields = (
        "target_display",
        "changes_display",
        "effective_at",
        "status",
        "created_display",
        "applied_at",
        "result",
    )
    readonly_fields = fields

    def has_process_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_scheduledchange")

    @display(description=gettext_lazy("生效时间"), ordering="effective_at")
    def effective_display(self, obj):
        return local_time(obj.effective_at)

    @display(description=gettext_lazy("变更对象"))
    def target_display(self, obj):
        if obj.rule_id:
            return format_html(
                _('佣金规则 <a class="text-primary-600" href="{}">{}</a>'),
                change_url(obj.rule),
                obj.rule.name,
            )
        return obj.get_target_display()

    @display(description=gettext_lazy("变更内容"))
    def changes_display(self, obj):
        rows = describe(obj)
        return format_html_join("", _("<div>{}：{} → {}</div>"), rows) if rows else "-"

    @display(description=gettext_lazy("创建人"))
    def created_display(self, obj):
        return f"{user_text(obj.created_by)} · {local_time(obj.created_at)}" if obj.created_by_id else "-"

    def detail_actions_for(self, obj):
        return {"cancel"} if obj.status == ScheduledChange.Status.PENDING else set()

    @action(description=gettext_lazy("撤销所选"), permissions=["process"])
    def cancel_selected(self, request, queryset):
        run_each(request, queryset, lambda c: scheduled.cancel(c, request.user), done=_("已撤销"))

    @action(description=gettext_lazy("撤销"), url_path="cancel", icon="undo", permissions=["process"])
    def cancel(self, request, object_id):
        change = self.object_or_404(request, object_id)
        return confirm_action(
            self,
            request,
            change,
            lambda: run(
                request, lambda: scheduled.cancel(change, request.user), success=_("已撤销，该变更不会生效")
            ),
            title=_("撤销定时变更：%(when)s 生效") % {"when": local_time(change.effective_at)},
            # The buyer withdraws an after-sale with the same Chinese words (English: Withdraw).
            submit_label=pgettext("scheduled change", "确认撤销"),
            danger=True,
        )
