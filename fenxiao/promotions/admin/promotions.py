"""营销活动: the list by state and start date (exported as filtered), one form per kind
(限时折扣 / 满减 / 拼团) with its items or tiers (see inlines.py), 提前结束 of one promotion
or of those selected, and each promotion's figures. Saved only through
services.manage: the whole promotion is tried before the admin decides the form is valid,
so a refusal shows next to the form and nothing is written."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.views import ChangeList

from fenxiao.core.admin import DetailActionsMixin, SafeAutocompleteMixin
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import (
    ConfirmForm,
    LocalDateRangeFilter,
    MoneyField,
    PercentField,
    confirm_action,
)
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_bp, format_fen
from fenxiao.core.numbers import whole_number
from fenxiao.distribution.admin.common import ServiceSaveMixin, bulk_step

from ..exports import PROMOTIONS
from ..models import CommissionMode, Promotion, PromotionKind, PromotionState, running
from ..services import manage
from ..services.figures import Figures, promotion_figures
from .common import badge, local_time
from .inlines import ItemInline, TierInline

STATE_BADGES = {
    PromotionState.UPCOMING: "info",
    PromotionState.RUNNING: "success",
    PromotionState.ENDED: "",
}
LEVELS = (1, 2, 3)
START_NOTE = gettext_lazy("开始时间改为现在，结束时间不变；活动商品立即按活动价出售")
END_NOTE = gettext_lazy("结束后买家立即恢复原价购买；已下单的订单不受影响，活动不能再修改")


class StateFilter(admin.SimpleListFilter):
    title = gettext_lazy("状态")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return PromotionState.choices

    def queryset(self, request, queryset):
        now = timezone.now()
        closed = Q(ends_at__lte=now) | Q(ended_at__lte=now)
        if self.value() == PromotionState.UPCOMING:
            return queryset.filter(starts_at__gt=now).exclude(closed)
        if self.value() == PromotionState.RUNNING:
            return queryset.filter(running(now))
        if self.value() == PromotionState.ENDED:
            return queryset.filter(closed)
        return queryset


# --- The promotion form -------------------------------------------------------------------


class PromotionForm(forms.ModelForm):
    """Commission is typed as % (按比例) or yuan per unit (固定金额) and stored in the
    promotion's commission_level1..3 by the mode chosen."""

    rate1 = PercentField(label=gettext_lazy("一级比例（%）"), required=False)
    rate2 = PercentField(label=gettext_lazy("二级比例（%）"), required=False)
    rate3 = PercentField(label=gettext_lazy("三级比例（%）"), required=False)
    fixed1 = MoneyField(label=gettext_lazy("一级固定佣金（元/件）"), required=False)
    fixed2 = MoneyField(label=gettext_lazy("二级固定佣金（元/件）"), required=False)
    fixed3 = MoneyField(label=gettext_lazy("三级固定佣金（元/件）"), required=False)
    # A week's flash sale of 40 products is often one rate for all: typed once here, it
    # fills every row left without a price or a rate (see inlines.PromotionFormSet).
    fill_discount = PercentField(
        label=gettext_lazy("统一立减比例（%）"),
        required=False,
        min_bp=1,
        max_bp=9999,
        help_text=gettext_lazy(
            "活动价和立减比例都留空的商品按这个比例立减，如 20 即 8 折；单独填写的行不受影响"
        ),
    )

    kind = PromotionKind.FLASH  # set per page by PromotionAdmin.get_form

    class Meta:
        model = Promotion
        # The page's fieldsets (per kind) choose which of these a form shows.
        fields = (
            "name",
            "starts_at",
            "ends_at",
            "per_buyer_limit",
            "scope",
            "categories",
            "products",
            "repeat",
            "stackable",
            "group_size",
            "group_hours",
            "virtual_fill",
            "commission_mode",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.instance.kind = self.kind
        promotion = self.instance
        prefix = "fixed" if promotion.commission_mode == CommissionMode.FIXED else "rate"
        for level in LEVELS:
            self.initial.setdefault(f"{prefix}{level}", promotion.commission_value(level))

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("commission_mode", self.instance.commission_mode)
        prefix = "fixed" if mode == CommissionMode.FIXED else "rate"
        for level in LEVELS:
            setattr(self.instance, f"commission_level{level}", cleaned.get(f"{prefix}{level}"))
        return cleaned

    def _get_validation_exclusions(self):
        # The window and group bounds are refused by the service in Chinese.
        return super()._get_validation_exclusions() | {"starts_at", "ends_at", "group_size", "group_hours"}

    def _post_clean(self):
        super()._post_clean()
        promotion = self.instance
        if not self.errors:
            self._check_own_fields(promotion)
        promotion._admin_form_valid = not self.errors
        promotion._admin_categories = (
            self.cleaned_data.get("categories") if "categories" in self.fields else None
        )
        promotion._admin_products = self.cleaned_data.get("products") if "products" in self.fields else None
        promotion._admin_fill_discount = self.cleaned_data.get("fill_discount")

    def _check_own_fields(self, promotion) -> None:
        """A refusal about the promotion's own fields (a start in the past, group rules)
        shows at that field; the items are tried only once these pass (see inlines)."""
        try:
            manage.check_promotion(promotion)
        except DomainError as exc:
            field = exc.details.get("field")
            self.add_error(field if field in self.fields else None, exc.message)


COMMON_FIELDS = ("name", "starts_at", "ends_at")
COMMISSION_FIELDSET = (
    gettext_lazy("活动佣金"),
    {
        "fields": ("commission_mode", "rate1", "rate2", "rate3", "fixed1", "fixed2", "fixed3"),
        "description": gettext_lazy(
            "活动比例填写百分比，固定金额填写每件的元；留空的层级按常规佣金规则。"
            "保存时按分销设置中的单商品佣金上限检查（含阶梯/团队奖励）"
        ),
    },
)
KIND_FIELDSETS = {
    PromotionKind.FLASH: (
        (gettext_lazy("活动"), {"fields": (*COMMON_FIELDS, "per_buyer_limit", "fill_discount")}),
    ),
    PromotionKind.SPEND: (
        (gettext_lazy("活动"), {"fields": COMMON_FIELDS}),
        (
            gettext_lazy("满减规则"),
            {
                "fields": ("scope", "categories", "products", "repeat", "stackable"),
                "description": gettext_lazy("满减按实付商品金额计算，取满足条件的最高一档"),
            },
        ),
    ),
    PromotionKind.GROUP: (
        (gettext_lazy("活动"), {"fields": (*COMMON_FIELDS, "per_buyer_limit", "fill_discount")}),
        (gettext_lazy("拼团规则"), {"fields": ("group_size", "group_hours", "virtual_fill")}),
    ),
}
ADD_LABELS = {
    PromotionKind.FLASH: gettext_lazy("新建限时折扣"),
    PromotionKind.SPEND: gettext_lazy("新建满减"),
    PromotionKind.GROUP: gettext_lazy("新建拼团"),
}


class PromotionChangeList(ChangeList):
    """The page's figures in one set of grouped queries, whatever the number of rows."""

    def get_results(self, request):
        super().get_results(request)
        figures = promotion_figures([p.pk for p in self.result_list])
        for promotion in self.result_list:
            promotion._figures = figures.get(promotion.pk, Figures())


@admin.register(Promotion)
class PromotionAdmin(ExportMixin, SafeAutocompleteMixin, DetailActionsMixin, ServiceSaveMixin, ModelAdmin):
    form = PromotionForm
    export = PROMOTIONS
    missing_message = gettext_lazy("活动不存在")
    list_display = ("name", "kind", "window_display", "state_badge", "figures_display")
    list_filter = (StateFilter, "kind", ("starts_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("name",)
    search_help_text = gettext_lazy("按活动名称搜索")
    autocomplete_fields = ("categories", "products")
    list_per_page = 50
    actions = ("end_selected",)
    actions_list = ("add_flash", "add_spend", "add_group")
    actions_detail = ("start_now", "end_now")
    readonly_fields = ("kind_display", "state_badge", "window_display", "figures_panel", "commission_text")

    def get_changelist(self, request, **kwargs):
        return PromotionChangeList

    def get_changeform_initial_data(self, request):
        # The address may preset fields of a new promotion (?kind=group, ?products=1,2). The
        # pickers look the ids up, so only ids are kept; the window's date-and-time inputs
        # read no text, so a preset there is dropped (either way a 500 otherwise).
        initial = super().get_changeform_initial_data(request)
        for name in ("categories", "products"):
            if name in initial:
                ids = [v for v in initial.pop(name) if whole_number(v) is not None]
                if ids:
                    initial[name] = ids
        initial.pop("starts_at", None)
        initial.pop("ends_at", None)
        return initial

    def add_view(self, request, form_url="", extra_context=None):
        # The header and the tab say which kind is being created (新建限时折扣 …).
        heading = ADD_LABELS[self._kind(request, None)]
        return super().add_view(
            request, form_url, {"title": heading, "kind_heading": heading, **(extra_context or {})}
        )

    def _kind(self, request, obj) -> str:
        if obj is not None:
            return obj.kind
        kind = request.GET.get("kind")
        return kind if kind in PromotionKind.values else PromotionKind.FLASH

    def get_fieldsets(self, request, obj=None):
        head = (
            ((_("概况"), {"fields": ("kind_display", "state_badge", "window_display", "figures_panel")}),)
            if obj
            else ()
        )
        commission = COMMISSION_FIELDSET
        if obj is not None and not self.has_change_permission(request, obj):
            commission = (_("活动佣金"), {"fields": ("commission_mode", "commission_text")})
        return (*head, *KIND_FIELDSETS[self._kind(request, obj)], commission)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"kind": self._kind(request, obj)})

    def get_inlines(self, request, obj):
        return [TierInline] if self._kind(request, obj) == PromotionKind.SPEND else [ItemInline]

    # An ended promotion is read only; it is kept, never deleted, so its figures stay.
    def has_change_permission(self, request, obj=None):
        editable = obj is None or obj.state() != PromotionState.ENDED
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_end_permission(self, request, obj=None):
        return request.user.has_perm("promotions.change_promotion")

    def has_start_permission(self, request, obj=None):
        return request.user.has_perm("promotions.change_promotion")

    def has_add_kind_permission(self, request, obj=None):
        return self.has_add_permission(request)

    def detail_actions_for(self, obj) -> set[str]:
        state = obj.state()
        if state == PromotionState.ENDED:
            return set()
        return {"start_now", "end_now"} if state == PromotionState.UPCOMING else {"end_now"}

    # --- saving: everything in one service call ---

    def save_model(self, request, obj, form, change):
        """Saved with its items or tiers in save_related, through the service."""

    def save_related(self, request, form, formsets, change):
        promotion = form.instance
        rows = formsets[0].kept_instances() if formsets else []
        is_spend = promotion.kind == PromotionKind.SPEND
        # The form tried this already; a refusal now is a race, shown on the form again.
        self._save_via(
            request,
            lambda: manage.save_promotion(
                promotion,
                [] if is_spend else rows,
                rows if is_spend else [],
                request.user,
                categories=promotion._admin_categories,
                products=promotion._admin_products,
            ),
        )
        for formset in formsets:  # the admin's change message reads these
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # --- columns ---

    @display(description=gettext_lazy("类型"))
    def kind_display(self, obj):
        return obj.get_kind_display()

    @display(description=gettext_lazy("各级佣金"))
    def commission_text(self, obj):
        if obj.commission_mode not in (CommissionMode.RATE, CommissionMode.FIXED):
            return "-"
        shown = (
            format_bp
            if obj.commission_mode == CommissionMode.RATE
            else (lambda v: _("%(amount)s/件") % {"amount": format_fen(v)})
        )
        return " / ".join(_("常规") if v is None else shown(v) for v in map(obj.commission_value, LEVELS))

    @display(description=gettext_lazy("活动时间"), ordering="starts_at")
    def window_display(self, obj):
        text = _("%(starts_at)s 至 %(ends_at)s") % {
            "starts_at": local_time(obj.starts_at),
            "ends_at": local_time(obj.ends_at),
        }
        if obj.ended_at and obj.ended_at < obj.ends_at:
            text += _("（%(ended_at)s 提前结束）") % {"ended_at": local_time(obj.ended_at)}
        return text

    @display(description=gettext_lazy("状态"))
    def state_badge(self, obj):
        state = obj.state()
        return badge(PromotionState(state).label, STATE_BADGES[state])

    @display(description=gettext_lazy("订单 / 成交额 / 优惠"))
    def figures_display(self, obj):
        f = getattr(obj, "_figures", None) or Figures()
        return _("%(orders)s 单 / %(gmv)s / %(discount)s") % {
            "orders": f.orders,
            "gmv": format_fen(f.gmv),
            "discount": format_fen(f.discount),
        }

    @display(description=gettext_lazy("活动数据"))
    def figures_panel(self, obj):
        if "_admin_figures" not in obj.__dict__:  # unfold resolves read-only fields repeatedly
            obj._admin_figures = promotion_figures([obj.pk])[obj.pk]
        f = obj._admin_figures
        rows = (
            (_("订单数"), _("%(orders)s 单") % {"orders": f.orders}),
            (_("下单人数"), _("%(buyers)s 人") % {"buyers": f.buyers}),
            (_("成交额（活动商品实付）"), format_fen(f.gmv)),
            (_("优惠成本"), format_fen(f.discount)),
            (_("活动商品佣金"), format_fen(f.commission)),
        )
        return format_html(
            '<div class="grid grid-cols-2 gap-x-6 gap-y-1 md:grid-cols-5">{}</div>',
            format_html_join(
                "",
                '<div><div class="text-base-500">{}</div>'
                '<div class="text-important font-semibold">{}</div></div>',
                rows,
            ),
        )

    # --- actions ---

    def _add_url(self, kind) -> str:
        return reverse("admin:promotions_promotion_add") + f"?kind={kind}"

    @action(
        description=ADD_LABELS[PromotionKind.FLASH],
        url_path="add-flash",
        icon="bolt",
        permissions=["add_kind"],
    )
    def add_flash(self, request):
        return HttpResponseRedirect(self._add_url(PromotionKind.FLASH))

    @action(
        description=ADD_LABELS[PromotionKind.SPEND],
        url_path="add-spend",
        icon="sell",
        permissions=["add_kind"],
    )
    def add_spend(self, request):
        return HttpResponseRedirect(self._add_url(PromotionKind.SPEND))

    @action(
        description=ADD_LABELS[PromotionKind.GROUP],
        url_path="add-group",
        icon="group_add",
        permissions=["add_kind"],
    )
    def add_group(self, request):
        return HttpResponseRedirect(self._add_url(PromotionKind.GROUP))

    @action(description=gettext_lazy("立即开始"), url_path="start", icon="play_circle", permissions=["start"])
    def start_now(self, request, object_id):
        promotion = self.object_or_404(request, object_id)

        def act():
            try:
                manage.start_now(promotion, request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("活动“%(name)s”已开始，买家现在即可按活动价购买") % {"name": promotion.name}
                )

        return confirm_action(
            self,
            request,
            promotion,
            act,
            title=_("立即开始活动：%(name)s") % {"name": promotion.name},
            submit_label=_("立即开始"),
            summary=[
                (_("活动"), promotion.name),
                (_("类型"), promotion.get_kind_display()),
                (_("活动时间"), self.window_display(promotion)),
                (_("说明"), START_NOTE),
            ],
        )

    @action(description=gettext_lazy("提前结束"), url_path="end", icon="stop_circle", permissions=["end"])
    def end_now(self, request, object_id):
        promotion = self.object_or_404(request, object_id)

        def act():
            try:
                manage.end_early(promotion, request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("活动“%(name)s”已结束") % {"name": promotion.name})

        return confirm_action(
            self,
            request,
            promotion,
            act,
            title=_("提前结束活动：%(name)s") % {"name": promotion.name},
            submit_label=_("立即结束"),
            danger=True,
            summary=[
                (_("活动"), promotion.name),
                (_("类型"), promotion.get_kind_display()),
                (_("活动时间"), self.window_display(promotion)),
                (_("说明"), END_NOTE),
            ],
        )

    @action(description=gettext_lazy("提前结束所选活动"), permissions=["end"])
    def end_selected(self, request, queryset):
        _data, page = bulk_step(
            self,
            request,
            queryset,
            ConfirmForm,
            title=_("提前结束所选活动"),
            submit_label=_("立即结束"),
            danger=True,
            # The state shows which of those ticked have ended already (they are skipped).
            describe=lambda p: _("%(name)s（%(state)s）") % {"name": p.name, "state": p.state_label()},
        )
        if page is not None:
            page.context_data["summary"].append((_("说明"), END_NOTE))
            return page
        outcome = manage.end_early_many(queryset, request.user)
        if outcome.ended:
            messages.success(request, _("已结束 %(count)s 个活动") % {"count": outcome.ended})
        if outcome.skipped:
            names = pgettext("list separator", "、").join(outcome.skipped_names)
            if outcome.skipped > len(outcome.skipped_names):
                names = _("%(names)s 等") % {"names": names}
            messages.info(
                request,
                _("跳过 %(count)s 个已结束的活动：%(names)s") % {"count": outcome.skipped, "names": names},
            )
        return None
