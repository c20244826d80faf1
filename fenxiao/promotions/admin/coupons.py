"""优惠券: the list with issued / claimed / used counts, filtered by creation date and
exported as filtered, and bulk 停用 / 启用 (coupons are never deleted: buyers' copies point
at them), the form (saved through services.manage), 发放给买家 (phone numbers pasted one
per line → services.coupons.issue) and the issuance log (by date, exported likewise)."""

import copy
import re

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.views import ChangeList

from fenxiao.core.admin import (
    DetailActionsMixin,
    ReadOnlyAdmin,
    SafeAutocompleteMixin,
    user_text,
)
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import (
    LocalDateRangeFilter,
    MoneyFieldsMixin,
    PercentFieldsMixin,
    form_action,
    posted,
)
from fenxiao.core.money import format_fen
from fenxiao.core.numbers import half_width, whole_number
from fenxiao.customers.backoffice.listing import full_phones, with_phone_flag
from fenxiao.customers.models import User
from fenxiao.distribution.admin.common import ServiceSaveMixin

from ..exports import COUPON_ISSUES, COUPONS, shown_audience
from ..models import BuyerCouponStatus, Coupon, CouponIssue, hand_out_audience
from ..services import coupons, manage
from ..services.figures import CouponFigures, coupon_figures
from .buyer_coupons import copies_url
from .common import link, local_time, refusal, with_links

PHONE = re.compile(r"^1[0-9]{10}$")
MAX_PHONES = coupons.MAX_ISSUE_BATCH


class CouponForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = (
            "name",
            "kind",
            "is_active",
            "claimable",
            "amount",
            "discount_bp",
            "max_discount",
            "min_spend",
            "scope",
            "categories",
            "products",
            "valid_from",
            "valid_until",
            "valid_days",
            "total_quantity",
            "per_buyer_limit",
        )
        # As 发行量 says: a merchant typing 0 must know it lifts the limit, not forbids claims.
        help_texts = {"per_buyer_limit": gettext_lazy("0 表示不限")}

    def _get_validation_exclusions(self):
        # The discount range is refused by the service in Chinese.
        return super()._get_validation_exclusions() | {"discount_bp"}

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        self.instance._admin_scope = (self.cleaned_data.get("categories"), self.cleaned_data.get("products"))
        categories, products = self.instance._admin_scope
        refused = refusal(
            lambda: manage.save_coupon(
                copy.copy(self.instance), None, categories=categories, products=products
            )
        )
        if refused:
            self.add_error(None, refused)


class CouponChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        figures = coupon_figures([c.pk for c in self.result_list])
        for coupon in self.result_list:
            coupon._figures = figures.get(coupon.pk, CouponFigures())


def _count_link(count: int, url: str):
    return format_html('<a class="text-primary-600" href="{}">{}</a>', url, count) if count else count


class IssueForm(forms.Form):
    phones = forms.CharField(
        label=gettext_lazy("买家手机号"),
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": gettext_lazy("每行一个手机号")}),
        help_text=format_lazy(
            gettext_lazy("每行一个，最多 {limit} 个；未注册的手机号会被跳过"), limit=MAX_PHONES
        ),
    )
    note = forms.CharField(label=gettext_lazy("备注"), max_length=200, required=False)

    def clean_phones(self):
        phones = []
        for line in self.cleaned_data["phones"].splitlines():
            phone = re.sub(r"[\s-]", "", half_width(line))
            if not phone:
                continue
            if not PHONE.match(phone):
                raise forms.ValidationError(_("手机号格式有误：%(strip)s") % {"strip": line.strip()[:20]})
            phones.append(phone)
        phones = list(dict.fromkeys(phones))
        if not phones:
            raise forms.ValidationError(_("请至少填写一个手机号"))
        if len(phones) > MAX_PHONES:
            raise forms.ValidationError(
                _("一次最多发放给 %(MAX_PHONES)s 位买家") % {"MAX_PHONES": MAX_PHONES}
            )
        return phones


@admin.register(Coupon)
class CouponAdmin(
    ExportMixin,
    SafeAutocompleteMixin,
    DetailActionsMixin,
    PercentFieldsMixin,
    MoneyFieldsMixin,
    ServiceSaveMixin,
    ModelAdmin,
):
    form = CouponForm
    export = COUPONS
    money_fields = ("amount", "max_discount", "min_spend")
    missing_message = gettext_lazy("优惠券不存在")
    list_display = (
        "name",
        "kind",
        "value_display",
        "validity_display",
        "issued_display",
        "claimed_display",
        "used_display",
        "is_active",
    )
    # By creation date: a coupon valid N days after claiming has no validity dates to filter.
    list_filter = ("kind", "is_active", "claimable", ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("name",)
    search_help_text = gettext_lazy("按券名称搜索")
    autocomplete_fields = ("categories", "products")
    readonly_fields = ("issued", "figures_panel")
    actions = ("stop_selected", "restart_selected")
    actions_detail = ("issue_to_buyers",)
    fieldsets = (
        (gettext_lazy("优惠券"), {"fields": ("name", "kind", "is_active", "claimable")}),
        (
            gettext_lazy("优惠"),
            {
                "fields": ("amount", "discount_bp", "max_discount", "min_spend"),
                "description": gettext_lazy(
                    "满减券填写面额；折扣券填写减去的比例（如 10 表示减 10%，即 9折）和封顶金额"
                ),
            },
        ),
        (gettext_lazy("适用范围"), {"fields": ("scope", "categories", "products")}),
        (
            gettext_lazy("有效期"),
            {
                "fields": ("valid_from", "valid_until", "valid_days"),
                "description": gettext_lazy(
                    "填写固定的开始/结束时间，或领取后有效天数（可同时设置最晚结束时间）"
                ),
            },
        ),
        (gettext_lazy("数量"), {"fields": ("total_quantity", "per_buyer_limit", "issued", "figures_panel")}),
    )

    def get_changelist(self, request, **kwargs):
        return CouponChangeList

    def get_changeform_initial_data(self, request):
        # The address may preset fields of a new coupon (?products=1,2). The pickers look the
        # ids up, so only ids are kept; the validity's date-and-time inputs read no text, so
        # a preset there is dropped (either way a 500 otherwise).
        initial = super().get_changeform_initial_data(request)
        for name in ("categories", "products"):
            if name in initial:
                ids = [v for v in initial.pop(name) if whole_number(v) is not None]
                if ids:
                    initial[name] = ids
        initial.pop("valid_from", None)
        initial.pop("valid_until", None)
        return initial

    def has_delete_permission(self, request, obj=None):
        return False  # copies in buyers' wallets point at it; switch it off instead

    def has_issue_permission(self, request, obj=None):
        return request.user.has_perm("promotions.add_couponissue")

    def detail_actions_for(self, obj) -> set[str]:
        return {"issue_to_buyers"} if obj.is_active else set()

    def save_model(self, request, obj, form, change):
        categories, products = getattr(obj, "_admin_scope", (None, None))
        self._save_via(
            request, lambda: manage.save_coupon(obj, request.user, categories=categories, products=products)
        )

    def save_related(self, request, form, formsets, change):
        """The coupon's categories and products were set by the service."""

    # --- columns ---

    @display(description=gettext_lazy("优惠"))
    def value_display(self, obj):
        # Worded as the buyer reads it on H5 and in the API: 满¥50.00打9折，最多减¥30.00.
        return coupons.summary(obj)

    @display(description=gettext_lazy("有效期"))
    def validity_display(self, obj):
        if obj.valid_days:
            text = _("领取后 %(valid_days)s 天") % {"valid_days": obj.valid_days}
            return (
                _("%(text)s（最晚 %(valid_until)s）")
                % {"text": text, "valid_until": local_time(obj.valid_until)}
                if obj.valid_until
                else text
            )
        return _("%(valid_from)s 至 %(valid_until)s") % {
            "valid_from": local_time(obj.valid_from),
            "valid_until": local_time(obj.valid_until),
        }

    @display(description=gettext_lazy("已发放 / 发行量"))
    def issued_display(self, obj):
        return f"{obj.issued} / {obj.total_quantity or _('不限')}"

    def _figures(self, obj) -> CouponFigures:
        if getattr(obj, "_figures", None) is None:
            obj._figures = coupon_figures([obj.pk])[obj.pk]
        return obj._figures

    # The counts open the buyers' copies behind them: who holds the coupon, who used it on
    # which order (发券记录 logs only staff hand-outs, not buyers' own claims).
    @display(description=gettext_lazy("已领取"))
    def claimed_display(self, obj):
        return _count_link(self._figures(obj).claimed, copies_url(obj.pk))

    @display(description=gettext_lazy("已使用"))
    def used_display(self, obj):
        return _count_link(self._figures(obj).used, copies_url(obj.pk, BuyerCouponStatus.USED))

    @display(description=gettext_lazy("使用情况"))
    def figures_panel(self, obj):
        if not obj or not obj.pk:
            return "-"
        f = self._figures(obj)
        log_url = reverse("admin:promotions_couponissue_changelist") + f"?coupon__id__exact={obj.pk}"
        link = '<a class="text-primary-600" href="{}">{}</a>'
        return format_html(
            link + " · " + link + " · {} · " + link,
            copies_url(obj.pk),
            _("已领取 %(claimed)s 张") % {"claimed": f.claimed},
            copies_url(obj.pk, BuyerCouponStatus.USED),
            _("已使用 %(used)s 张") % {"used": f.used},
            _("优惠金额 %(discount)s") % {"discount": format_fen(f.discount)},
            log_url,
            _("发券记录"),
        )

    # --- 停用 / 启用 ---

    @action(description=gettext_lazy("停用所选优惠券"), permissions=["change"])
    def stop_selected(self, request, queryset):
        self._switch(request, queryset, False)

    @action(description=gettext_lazy("启用所选优惠券"), permissions=["change"])
    def restart_selected(self, request, queryset):
        self._switch(request, queryset, True)

    def _switch(self, request, queryset, active: bool):
        outcome = manage.set_coupons_active(queryset, active)
        if outcome.changed:
            text = _("已启用 %(count)s 个优惠券") if active else _("已停用 %(count)s 个优惠券")
            messages.success(request, text % {"count": outcome.changed})
        if outcome.already:
            names = pgettext("list separator", "、").join(outcome.already_names)
            if outcome.already > len(outcome.already_names):
                names = _("%(names)s 等") % {"names": names}
            text = (
                _("%(count)s 个优惠券原本已启用，未改动：%(names)s")
                if active
                else _("%(count)s 个优惠券原本已停用，未改动：%(names)s")
            )
            messages.info(request, text % {"count": outcome.already, "names": names})

    # --- 发放给买家 ---

    @action(description=gettext_lazy("发放给买家"), url_path="issue", icon="send", permissions=["issue"])
    def issue_to_buyers(self, request, object_id):
        coupon = self.object_or_404(request, object_id)
        form = IssueForm(posted(request))

        def call(data):
            phones = data["phones"]
            found = dict(User.objects.filter(phone__in=phones).values_list("phone", "pk"))
            log = coupons.issue(
                coupon, found.values(), request.user, audience=hand_out_audience(phones), note=data["note"]
            )
            return log, len(phones) - len(found)

        def success(result):
            log, unknown = result
            text = _("已发放 %(issued)s 张（共 %(requested)s 位买家）") % {
                "issued": log.issued,
                "requested": log.requested,
            }
            if log.requested > log.issued:
                text += _("，%(issued)s 位已达领取上限或券已发完") % {"issued": log.requested - log.issued}
            if unknown:
                text += _("，%(unknown)s 个手机号未注册已跳过") % {"unknown": unknown}
            return text

        return form_action(
            self,
            request,
            coupon,
            form,
            call,
            success=success,
            title=_("发放优惠券：%(name)s") % {"name": coupon.name},
            submit_label=_("发放"),
            summary=[
                (_("优惠券"), coupon.name),
                (_("优惠"), self.value_display(coupon)),
                (_("已发放 / 发行量"), self.issued_display(coupon)),
                (_("每人限领"), coupon.per_buyer_limit or _("不限")),
                (_("发给客户分群"), segment_push_link(coupon)),
            ],
        )


def segment_push_link(coupon: Coupon) -> str:
    """A hand-out by pasted phones reaches a list the merchant has; a tag, a spending
    bracket or every buyer is a segment, reached by a 定向推送 carrying the coupon."""
    url = reverse("admin:promotions_push_add") + f"?carries=coupon&coupon={coupon.pk}"
    return with_links(
        _("按标签、消费等条件发给一批客户：{push}，选择客户分群后开始发送"),
        push=link(url, _("用定向推送发这张券")),
    )


@admin.register(CouponIssue)
class CouponIssueAdmin(ExportMixin, ReadOnlyAdmin):
    export = COUPON_ISSUES
    list_display = (
        "created_at",
        "coupon",
        "audience_display",
        "requested",
        "issued_display",
        "staff_display",
        "note_display",
    )
    # Only the coupons ever handed out, not every coupon the shop has made.
    list_filter = (("coupon", admin.RelatedOnlyFieldListFilter), ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    list_select_related = ("coupon", "staff")
    search_fields = ("coupon__name", "audience", "note")
    search_help_text = gettext_lazy("按券名称、发放对象或备注搜索")
    fields = list_display
    readonly_fields = fields

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request), request)

    @property
    def empty_hint(self):
        return with_links(
            _(
                "商家发出的券记在这里：在{coupons}中打开一张券，点“发放给买家”按手机号发放，或用{push}发给一个客户分群"
            ),
            coupons=link(reverse("admin:promotions_coupon_changelist"), _("优惠券")),
            push=link(reverse("admin:promotions_push_changelist"), _("定向推送")),
        )

    @display(description=gettext_lazy("发放对象"))
    def audience_display(self, obj):
        # The phones are masked (138****1234) unless the staff member may see buyers'
        # phones, as everywhere else in the backend: the log is open to all marketing staff.
        return shown_audience(obj.audience_text, full_phones(obj))

    @display(description=gettext_lazy("实际发放"), ordering="issued")
    def issued_display(self, obj):
        # Opens the copies this hand-out put in buyers' wallets: who got one, who used it.
        url = reverse("admin:promotions_buyercoupon_changelist") + f"?issue__exact={obj.pk}"
        return _count_link(obj.issued, url)

    @display(description=gettext_lazy("操作人"))
    def staff_display(self, obj):
        return user_text(obj.staff)

    @display(description=gettext_lazy("备注"))
    def note_display(self, obj):
        return obj.note_text
