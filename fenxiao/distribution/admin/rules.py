"""分销等级, 佣金规则 and 销售额阶梯: saved only through services.config, whose guard refusals
show next to the form and leave nothing saved."""

import copy

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from fenxiao.core.admin import SafeAutocompleteMixin
from fenxiao.core.admin_forms import (
    MoneyField,
    MoneyFieldsMixin,
    PercentField,
    PercentFieldsMixin,
    action_page,
    posted,
)
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen
from fenxiao.core.numbers import whole_number

from ..models import (
    CommissionRule,
    CommissionRuleVersion,
    Distributor,
    DistributorGrade,
    RuleKind,
    SalesTier,
    ScheduledChange,
)
from ..services import config, grades, rules, scheduled, simulation
from .common import (
    ConfirmForm,
    ServiceSaveMixin,
    bp_text,
    change_url,
    changelist_url,
    form_page,
    link_to,
    local_time,
    refusal,
    run,
    user_text,
)
from .config import ReplayForm, effective_at_field, pending_changes_html, start_simulation

GRADE_MONEY_FIELDS = ("min_own_sales", "min_single_order", "min_team_sales", "min_settled_commission")


# --- 分销等级 ---------------------------------------------------------------------------------


class GradeForm(forms.ModelForm):
    class Meta:
        model = DistributorGrade
        fields = (
            "name",
            "weight",
            "is_default",
            "level1_bp",
            "level2_bp",
            "level3_bp",
            "team_bp",
            "logic",
            *DistributorGrade.CONDITION_FIELDS,
        )

    def _get_validation_exclusions(self):
        # save_grade moves the default flag from the old default grade to this one.
        return super()._get_validation_exclusions() | {"is_default"}

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            refused = refusal(config.save_grade, self.instance)
            if refused:
                self.add_error(None, refused)


@admin.register(DistributorGrade)
class DistributorGradeAdmin(PercentFieldsMixin, MoneyFieldsMixin, ServiceSaveMixin, ModelAdmin):
    form = GradeForm
    money_fields = GRADE_MONEY_FIELDS
    list_display = (
        "name",
        "weight",
        "is_default",
        "rates_display",
        "team_display",
        "conditions_display",
        "member_count",
    )
    search_fields = ("name",)
    search_help_text = gettext_lazy("按等级名称搜索")
    ordering = ("weight",)
    actions_list = ("evaluate_upgrades",)
    fieldsets = (
        (gettext_lazy("等级"), {"fields": ("name", "weight", "is_default")}),
        (
            gettext_lazy("佣金比例"),
            {
                "fields": ("level1_bp", "level2_bp", "level3_bp", "team_bp"),
                "description": gettext_lazy("留空则使用分销设置中的默认比例"),
            },
        ),
        (
            gettext_lazy("升级条件"),
            {
                "fields": (
                    "logic",
                    "min_own_sales",
                    "min_own_orders",
                    "min_single_order",
                    "min_direct_team",
                    "min_team_sales",
                    "min_team_orders",
                    "min_settled_commission",
                ),
                "description": gettext_lazy(
                    "留空的条件不参与判断；没有任何条件的等级只能手动设置。每次结算后及每天自动评估，只升不降；"
                    "销售额与订单数只计已完成（确认收货）的订单，按实付减退款计，全额退款的订单不计"
                ),
            },
        ),
    )

    # A named permission, not "distribution.change_distributor" in @action: unfold checks dotted
    # names against the database at start-up, before migrations have run.
    def has_evaluate_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_distributor")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("distributors"))

    def save_model(self, request, obj, form, change):
        self._save_via(request, lambda: config.save_grade(obj))

    @display(description=gettext_lazy("佣金比例（一/二/三级）"))
    def rates_display(self, obj):
        return " / ".join(
            _("默认") if bp is None else bp_text(bp) for bp in (obj.level1_bp, obj.level2_bp, obj.level3_bp)
        )

    @display(description=gettext_lazy("团队佣金"))
    def team_display(self, obj):
        return bp_text(obj.team_bp)

    @display(description=gettext_lazy("升级条件"))
    def conditions_display(self, obj):
        parts = []
        for name in obj.CONDITION_FIELDS:
            value = getattr(obj, name)
            if value is None:
                continue
            label = str(obj._meta.get_field(name).verbose_name).replace(_("（分）"), "")
            parts.append(f"{label} {format_fen(value) if name in GRADE_MONEY_FIELDS else value}")
        if not parts:
            return _("仅手动设置")
        joiner = _("，且 ") if obj.logic == "all" else _("，或 ")
        return joiner.join(parts)

    @display(description=gettext_lazy("分销商数"), ordering="member_count")
    def member_count(self, obj):
        return link_to(changelist_url(Distributor, grade__id__exact=obj.pk), obj.member_count)

    @action(
        description=gettext_lazy("立即评估升级"),
        url_path="evaluate",
        icon="upgrade",
        permissions=["evaluate"],
    )
    def evaluate_upgrades(self, request):
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            _result, ok = run(
                request,
                grades.upgrade,
                form,
                success=lambda upgraded: _("评估完成，%(count)s 位分销商已升级") % {"count": len(upgraded)},
            )
            if ok:
                return HttpResponseRedirect(changelist_url(DistributorGrade))
        return form_page(
            self,
            request,
            title=_("立即评估等级升级"),
            form=form,
            submit_label=_("开始评估"),
            summary=[(_("说明"), _("按各等级的升级条件评估所有正常状态的分销商，满足条件即升级；只升不降"))],
        )


# --- 佣金规则 ---------------------------------------------------------------------------------

LEVELS = (1, 2, 3)


class RuleValuesForm(forms.Form):
    """How a rule computes: a rate rule takes a percentage, a fixed rule takes yuan per
    unit; both are stored in the rule's level1..3 columns (bp or fen) by the kind chosen."""

    rate1 = PercentField(label=gettext_lazy("一级比例（%）"), required=False)
    rate2 = PercentField(label=gettext_lazy("二级比例（%）"), required=False)
    rate3 = PercentField(label=gettext_lazy("三级比例（%）"), required=False)
    fixed1 = MoneyField(label=gettext_lazy("一级固定佣金（元/件）"), required=False)
    fixed2 = MoneyField(label=gettext_lazy("二级固定佣金（元/件）"), required=False)
    fixed3 = MoneyField(label=gettext_lazy("三级固定佣金（元/件）"), required=False)

    @staticmethod
    def kind_choices():  # the unit typed here, not the unit stored
        return [
            (RuleKind.RATE, _("按比例")),
            (RuleKind.FIXED, _("固定金额（每件）")),
            (RuleKind.EXCLUDE, _("不计佣金（各级佣金、阶梯奖励、团队佣金均不发放）")),
        ]

    def show_values_of(self, rule) -> None:
        prefix = "fixed" if rule.kind == RuleKind.FIXED else "rate"
        for level in LEVELS:
            self.initial.setdefault(f"{prefix}{level}", rule.value(level))

    @staticmethod
    def level_values(cleaned: dict) -> dict:
        """level1..3 as stored, from the fields of the kind chosen (none for 不计佣金)."""
        prefix = "fixed" if cleaned.get("kind") == RuleKind.FIXED else "rate"
        excluded = cleaned.get("kind") == RuleKind.EXCLUDE
        return {f"level{n}": None if excluded else cleaned.get(f"{prefix}{n}") for n in LEVELS}


class CommissionRuleForm(RuleValuesForm, forms.ModelForm):
    effective_at = effective_at_field()

    class Meta:
        model = CommissionRule
        fields = ("name", "product", "sku", "category", "grade", "kind", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:
            self.fields["kind"].choices = self.kind_choices()
        self.show_values_of(self.instance)

    def _get_validation_exclusions(self):
        # "exactly one of product, SKU, category" is refused by save_rule in Chinese.
        return super()._get_validation_exclusions() | {"product", "sku", "category"}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("effective_at") and not self.instance.pk:
            self.add_error("effective_at", _("新规则请立即保存（可先停用，再定时启用）"))
        for name, value in self.level_values(cleaned).items():
            setattr(self.instance, name, value)
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if not self.errors and self.cleaned_data.get("effective_at"):
            try:
                scheduled.check_rule_changes(scheduled.rule_changes(self.instance))
            except DomainError as exc:
                self.add_error("effective_at", exc.message)
        if not self.errors:
            refused = refusal(config.save_rule, self.instance)
            if refused:
                self.add_error(None, refused)


class RuleSimulationForm(RuleValuesForm, ReplayForm):
    """A draft of one rule a what-if replays (佣金模拟): how it computes, on or off."""

    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("计算方式"))

    field_order = ("months", "is_active", "kind", "rate1", "rate2", "rate3", "fixed1", "fixed2", "fixed3")

    def __init__(self, *args, rule, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.fields["kind"].choices = self.kind_choices()
        self.initial.setdefault("kind", rule.kind)
        self.initial.setdefault("is_active", rule.is_active)
        self.show_values_of(rule)

    def draft(self) -> tuple[dict, int]:
        """(the changes a valid form drafts, the months to replay)."""
        data = self.cleaned_data
        rule = {"id": self.rule.pk, "kind": data["kind"], "is_active": data["is_active"]}
        return {"rule": rule | self.level_values(data)}, data["months"]


def rule_change_rows(rule, changes: dict) -> list[tuple[str, str, str]]:
    """(label, now, then) of each field a scheduled rule change sets."""
    after = copy.copy(rule)
    for name, value in changes.items():
        setattr(after, name, value)
    grades = dict(DistributorGrade.objects.values_list("pk", "name"))
    texts = {
        "name": (_("规则名称"), lambda r: r.name),
        "kind": (_("计算方式"), lambda r: r.get_kind_display()),
        "is_active": (_("启用"), lambda r: _("是") if r.is_active else _("否")),
        "grade_id": (_("仅限等级"), lambda r: grades.get(r.grade_id, _("所有等级"))),
    }
    rows = [(label, show(rule), show(after)) for name, (label, show) in texts.items() if name in changes]
    if {"kind", "level1", "level2", "level3"} & set(changes):
        rows.append((_("一/二/三级"), rules.values_text(rule), rules.values_text(after)))
    return rows


@admin.register(CommissionRule)
class CommissionRuleAdmin(SafeAutocompleteMixin, ServiceSaveMixin, ModelAdmin):
    form = CommissionRuleForm
    list_display = (
        "name",
        "target_display",
        "grade",
        "kind",
        "values_display",
        "is_active",
        "version",
        "updated_at",
    )
    list_filter = ("kind", "is_active", "grade")
    search_fields = ("name", "product__name", "category__name", "=sku__code")
    search_help_text = gettext_lazy("按规则名称、商品名称、分类名称或完整规格编码搜索")
    list_select_related = ("product", "sku__product", "category", "grade")
    autocomplete_fields = ("product", "category")
    raw_id_fields = ("sku",)
    readonly_fields = ("version", "updated_at", "version_history", "pending_changes")
    fieldsets = (
        (gettext_lazy("规则"), {"fields": ("name", "is_active", "version", "updated_at", "version_history")}),
        (
            gettext_lazy("适用范围"),
            {
                "fields": ("product", "sku", "category", "grade"),
                "description": gettext_lazy(
                    "商品、SKU、分类三选一；SKU 规则优先于商品规则，商品规则优先于"
                    "分类规则；“仅限等级”留空表示所有等级"
                ),
            },
        ),
        (
            gettext_lazy("佣金"),
            {
                "fields": ("kind", "rate1", "rate2", "rate3", "fixed1", "fixed2", "fixed3"),
                "description": gettext_lazy(
                    "按比例时填写百分比（如 15 表示 15%），固定金额时填写每件的元；"
                    "留空的层级不适用本规则。"
                    "选择“不计佣金”时无需填写，适用的商品不产生任何佣金"
                    "（不同于 0%：0% 仍会发放阶梯奖励和团队佣金）。"
                    "不同等级组合后的各级合计（含阶梯/团队奖励）不得超过分销设置中的单商品佣金上限"
                ),
            },
        ),
        (gettext_lazy("生效时间"), {"fields": ("effective_at", "pending_changes")}),
    )

    def get_changeform_initial_data(self, request):
        # A link may preset what a new rule applies to (?product=12); a value that is no id
        # is dropped, as the product and category pickers would look it up as one (a 500).
        initial = super().get_changeform_initial_data(request)
        for name in ("product", "sku", "category", "grade"):
            if name in initial and whole_number(initial[name]) is None:
                del initial[name]
        return initial

    def get_fieldsets(self, request, obj=None):
        # A new rule is saved at once (it can be saved switched off and switched on later).
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if obj else fieldsets[:-1]

    actions_detail = ("simulate",)

    @action(
        description=gettext_lazy("佣金模拟"),
        url_path="simulate",
        icon="query_stats",
        permissions=["simulate"],
    )
    def simulate(self, request, object_id):
        """What-if: replay recent orders with this rule changed, in the 任务中心."""
        pk = whole_number(object_id)
        if pk is None:
            raise Http404(_("未找到对应的记录"))
        rule = get_object_or_404(CommissionRule.objects.select_related("grade"), pk=pk)
        form = RuleSimulationForm(posted(request), rule=rule)
        started = start_simulation(request, form)
        if started is not None:
            return started
        return action_page(
            self,
            request,
            rule,
            title=_("佣金模拟：规则“%(name)s”改为…") % {"name": rule.name},
            form=form,
            submit_label=_("开始模拟"),
            summary=[
                (_("适用于"), self.target_display(rule)),
                (_("仅限等级"), rule.grade.name if rule.grade_id else _("所有等级")),
                (_("当前"), rules.values_text(rule) if rule.is_active else _("停用")),
                (
                    _("说明"),
                    _(
                        "按草稿重算所选期间每笔分销订单的佣金，与实际发放对比；不修改规则或佣金。"
                        "新规则可先停用保存，再在此模拟启用后的效果"
                    ),
                ),
            ],
        )

    def has_simulate_permission(self, request, obj=None):
        # Whoever may change the rule and run the settings' what-if (its job is theirs to read).
        return self.has_change_permission(request, obj) and request.user.has_perm(simulation.PERMISSION)

    # A rule that paid a commission is named in that commission's "why": rules are switched
    # off (启用), never deleted, so the record of what was in force stays whole.
    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        effective_at = form.cleaned_data.get("effective_at")
        if change and effective_at:
            # The rule stays as it is until then; the edit is kept and applied at its time.
            request._scheduled_at = effective_at
            self._save_via(
                request,
                lambda: scheduled.schedule_rule(request.user, obj, effective_at, scheduled.rule_changes(obj)),
            )
            return
        self._save_via(request, lambda: config.save_rule(obj, staff=request.user))

    def response_change(self, request, obj):
        when = getattr(request, "_scheduled_at", None)
        if when and not self._refused(request):
            messages.success(
                request,
                _("规则“%(name)s”的修改已安排于 %(when)s 生效")
                % {"name": obj.name, "when": local_time(when)},
            )
            return HttpResponseRedirect(change_url(CommissionRule.objects.get(pk=obj.pk)))
        return super().response_change(request, obj)

    @display(description=gettext_lazy("待生效的修改"))
    def pending_changes(self, obj):
        if not obj or not obj.pk:
            return "-"
        return pending_changes_html(scheduled.pending_for(ScheduledChange.Target.RULE, rule=obj))

    @display(description=gettext_lazy("历史版本"))
    def version_history(self, obj):
        """Each version as it was: commissions name the version they were computed with."""
        if not obj or not obj.pk:
            return "-"
        rows = [
            (
                v.version,
                v.name,
                v.grade_name or _("所有等级"),
                rules.values_text(v),
                _("启用") if v.is_active else _("停用"),
                local_time(v.created_at),
                user_text(v.changed_by),
            )
            for v in CommissionRuleVersion.objects.filter(rule=obj).select_related("changed_by")[:20]
        ]
        if not rows:
            return "-"
        return format_html_join("", "<div>v{} · {} · {} · {} · {} · {} · {}</div>", rows)

    @display(description=gettext_lazy("适用于"))
    def target_display(self, obj):
        if obj.sku_id:
            return _("SKU：%(name)s %(code)s") % {"name": obj.sku.product.name, "code": obj.sku.code}
        if obj.product_id:
            return _("商品：%(name)s") % {"name": obj.product.name}
        if obj.category_id:
            return _("分类：%(name)s") % {"name": obj.category.name}
        return "-"

    @display(description=gettext_lazy("一/二/三级"))
    def values_display(self, obj):
        return rules.values_text(obj)


# --- 销售额阶梯 -------------------------------------------------------------------------------


class SalesTierForm(forms.ModelForm):
    class Meta:
        model = SalesTier
        fields = ("threshold", "bonus_bp")

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            refused = refusal(config.save_tier, self.instance)
            if refused:
                self.add_error(None, refused)


@admin.register(SalesTier)
class SalesTierAdmin(PercentFieldsMixin, MoneyFieldsMixin, ServiceSaveMixin, ModelAdmin):
    form = SalesTierForm
    money_fields = ("threshold",)
    list_display = ("threshold_display", "bonus_display")
    ordering = ("threshold",)

    def save_model(self, request, obj, form, change):
        self._save_via(request, lambda: config.save_tier(obj))

    @display(description=gettext_lazy("本月销售额满"), ordering="threshold")
    def threshold_display(self, obj):
        return format_fen(obj.threshold)

    @display(description=gettext_lazy("额外一级佣金"))
    def bonus_display(self, obj):
        return bp_text(obj.bonus_bp)
