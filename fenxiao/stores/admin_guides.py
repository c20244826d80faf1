"""Backend pages for store QR codes and 导购 (registered by `StoresConfig.ready`, apart from
the store editing pages): 门店设置, 门店码与导购 (QR, printable poster, each staff member's
code, the store's own 导购 rate — typed in %, held to the guard when saved) and 门店员工 (add by
phone, 指定分销 in one step, leave, 导出 as filtered)."""

import copy
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminTextInputWidget, UnfoldBooleanSwitchWidget

from fenxiao.core.admin import user_text
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import PercentFieldsMixin
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_bp
from fenxiao.customers.backoffice.listing import full_phones, with_phone_flag
from fenxiao.distribution.admin.common import ServiceSaveMixin
from fenxiao.distribution.models import Distributor
from fenxiao.distribution.services import config

from .exports import STORE_STAFF
from .models import StoreQr, StoreSettings, StoreStaff
from .services import membership, qr, rules
from .services import staff as staff_service


@admin.register(StoreSettings)
class StoreSettingsAdmin(ModelAdmin):
    fields = (
        "member_mode",
        "bind_target",
        "override_binding",
        "member_distributor",
        "pos_commission",
        "updated_at",
    )
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request):
        # The one record is made on first open (the list redirects to it); asking the
        # database here would cost every backend page a query (the app list asks).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        cfg = membership.settings()
        return HttpResponseRedirect(reverse("admin:stores_storesettings_change", args=[cfg.pk]))

    def response_change(self, request, obj):
        messages.success(request, _("门店设置已保存"))
        return HttpResponseRedirect(reverse("admin:stores_storesettings_change", args=[obj.pk]))


def _png(data: bytes, filename: str | None = None) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    if filename:
        # The UTF-8 name (RFC 6266) carries the store's name; old clients get an ASCII one.
        response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _poster_name(store, staff) -> str:
    """A downloaded poster named by its store (and person), not by codes alone: a chain
    prints dozens of them. The codes stay in the name, as store names can be changed."""
    if staff is None:
        return f"{store.name}-{_('门店码海报')}-{store.code}.png"
    person = f"{staff.get_role_display()}{staff.user.display_name}"
    return f"{store.name}-{person}-{_('导购码海报')}-{staff.code}.png"


class GuideRateForm(forms.ModelForm):
    """The store's 导购 rate in %; what the guard would refuse shows next to the field, and
    nothing is saved (the service runs dry here, for real in `save_model`)."""

    class Meta:
        model = StoreQr
        fields = ("guide_level1_bp",)

    def _post_clean(self):
        super()._post_clean()
        if "guide_level1_bp" in self.errors:
            return
        bp = self.cleaned_data.get("guide_level1_bp")
        trial = copy.copy(self.instance)
        try:
            config.dry_run(lambda: rules.set_guide_rate(trial, bp))
        except DomainError as exc:
            self.add_error("guide_level1_bp", exc.message)


@admin.register(StoreQr)
class StoreQrAdmin(PercentFieldsMixin, ServiceSaveMixin, ModelAdmin):
    form = GuideRateForm
    list_display = ("name", "code", "qr_thumb", "poster_link", "guide_rate", "is_open")
    search_fields = ("name", "code")
    search_help_text = gettext_lazy("按门店名称或门店码搜索")
    fields = ("name", "code", "guide_level1_bp", "store_account", "qr_block", "staff_codes")
    readonly_fields = ("name", "code", "store_account", "qr_block", "staff_codes")

    def save_model(self, request, obj, form, change):
        self._save_via(request, lambda: rules.set_guide_rate(obj, form.cleaned_data.get("guide_level1_bp")))

    @admin.display(description=gettext_lazy("导购一级佣金比例"), ordering="guide_level1_bp")
    def guide_rate(self, obj):
        return _("常规规则") if obj.guide_level1_bp is None else format_bp(obj.guide_level1_bp)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/qr.png", view(self.qr_view), name="stores_storeqr_qr"),
            path("<int:pk>/poster.png", view(self.poster_view), name="stores_storeqr_poster"),
            path("<int:pk>/staff/<int:staff_id>/qr.png", view(self.qr_view), name="stores_storeqr_staff_qr"),
            path(
                "<int:pk>/staff/<int:staff_id>/poster.png",
                view(self.poster_view),
                name="stores_storeqr_staff_poster",
            ),
            *super().get_urls(),
        ]

    def _target(self, request, pk, staff_id):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        store = get_object_or_404(StoreQr, pk=pk)
        staff = get_object_or_404(StoreStaff, pk=staff_id, store=store) if staff_id else None
        return store, staff

    def qr_view(self, request, pk, staff_id=None):
        store, staff = self._target(request, pk, staff_id)
        return _png(qr.store_qr_png(store, staff))

    def poster_view(self, request, pk, staff_id=None):
        store, staff = self._target(request, pk, staff_id)
        return _png(qr.poster_png(store, staff), _poster_name(store, staff))

    # 门店二维码: the column beside it is the 门店码 (the code as text); two columns of one
    # name read as a mistake.
    @admin.display(description=gettext_lazy("门店二维码"))
    def qr_thumb(self, obj):
        url = reverse("admin:stores_storeqr_qr", args=[obj.pk])
        return format_html(
            '<img src="{}" width="64" height="64" alt="{}">', url, _("%(store)s门店码") % {"store": obj.name}
        )

    @admin.display(description=gettext_lazy("海报"))
    def poster_link(self, obj):
        return format_html(
            '<a class="text-primary-600" href="{}">{}</a>',
            reverse("admin:stores_storeqr_poster", args=[obj.pk]),
            _("下载海报"),
        )

    @admin.display(description=gettext_lazy("门店分销账户"))
    def store_account(self, obj):
        if obj.distributor_id:
            return _("%(name)s（%(code)s）") % {
                "name": obj.distributor.user.display_name,
                "code": obj.distributor.referral_code,
            }
        if obj.manager_id:
            return _("首位顾客扫门店码时，为店长开通（指定分销）")
        return _("未设置店长：扫门店码只成为会员，不绑定到门店")

    @admin.display(description=gettext_lazy("门店二维码"))
    def qr_block(self, obj):
        return format_html(
            '<img src="{}" width="200" height="200" alt="{}"><br>{}<br>'
            '<a class="text-primary-600" href="{}">{}</a>',
            reverse("admin:stores_storeqr_qr", args=[obj.pk]),
            _("门店码"),
            qr.store_url(obj),
            reverse("admin:stores_storeqr_poster", args=[obj.pk]),
            _("下载海报（PNG）"),
        )

    @admin.display(description=gettext_lazy("员工个人码"))
    def staff_codes(self, obj):
        manager_first = Case(When(role=StoreStaff.Role.MANAGER, then=0), default=1)
        rows = obj.staff.select_related("user").filter(is_active=True).order_by(manager_first, "id")
        return format_html_join(
            "",
            '<div style="display:inline-block;margin:0 16px 16px 0;text-align:center">'
            '<img src="{}" width="120" height="120" alt="{}"><br>{} {}<br>'
            '<a class="text-primary-600" href="{}">{}</a></div>',
            (
                (
                    reverse("admin:stores_storeqr_staff_qr", args=[obj.pk, s.pk]),
                    _("导购码"),
                    s.get_role_display(),
                    s.user.display_name,
                    reverse("admin:stores_storeqr_staff_poster", args=[obj.pk, s.pk]),
                    _("海报"),
                )
                for s in rows
            ),
        ) or _("还没有员工（在 门店员工 中按手机号添加）")


class StaffAddForm(forms.ModelForm):
    # Declared fields get no backend look by themselves: the phone box showed no border.
    phone = forms.CharField(
        label=gettext_lazy("员工手机号"),
        max_length=20,
        help_text=gettext_lazy("员工需先在商城注册"),
        widget=UnfoldAdminTextInputWidget,
    )
    make_distributor = forms.BooleanField(
        label=gettext_lazy("同时设为分销商（导购赚佣金）"),
        required=False,
        initial=True,
        widget=UnfoldBooleanSwitchWidget,
    )

    class Meta:
        model = StoreStaff
        fields = ("store", "role")

    def clean_phone(self):
        try:
            self.user = staff_service.user_by_phone(self.cleaned_data["phone"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return self.cleaned_data["phone"]

    def clean(self):
        cleaned = super().clean()
        store, user = cleaned.get("store"), getattr(self, "user", None)
        if store is not None and user is not None:
            try:
                staff_service.refuse_if_on_staff(store, user)
            except DomainError as error:
                self.add_error("phone", error.message)
        return cleaned

    def _post_clean(self):
        # The row is written by the service (`save_model`), not by this form.
        pass


class DistributorFilter(admin.SimpleListFilter):
    """分销商 是 / 否: the staff who earn nothing on the members they bring yet (no account, or
    one pending, suspended …), to tick them all and 设为分销商 in one go."""

    title = gettext_lazy("分销商")
    parameter_name = "distributor"

    def lookups(self, request, model_admin):
        return (("yes", gettext_lazy("是（正常）")), ("no", gettext_lazy("否或未生效")))

    def queryset(self, request, queryset):
        active = Q(user__distributor__status=Distributor.Status.ACTIVE)
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.exclude(active)
        return queryset


@admin.register(StoreStaff)
class StoreStaffAdmin(ExportMixin, ModelAdmin):
    list_display = (
        "staff_user",
        "store",
        "role",
        "is_active",
        "distributor_status",
        "code",
        "members_display",
    )
    list_filter = ("store", "role", "is_active", DistributorFilter)
    # The 导购码 too: 门店报表's 导购业绩 names each person by it.
    search_fields = ("user__phone", "user__nickname", "store__name", "=code")
    search_help_text = gettext_lazy("按员工手机号、昵称、导购码或门店名称搜索")
    list_select_related = ("user__distributor", "store")
    actions = ["make_distributors", "leave"]
    export = STORE_STAFF

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = StaffAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            if not self.may_designate(request):
                return ("store", "phone", "role")
            return ("store", "phone", "role", "make_distributor")
        return ("store", "staff_user", "role", "is_active", "code")

    def get_readonly_fields(self, request, obj=None):
        return ("store", "staff_user", "code") if obj is not None else ()

    def get_queryset(self, request):
        # 会员数: the members each one brought that count for the store now, in the same
        # statement; whether the count may open 门店会员 travels with the rows (the admin
        # object is shared by every request).
        user = request.user
        may_list = user.has_perm("stores.view_storemember") or user.has_perm("stores.change_storemember")
        return with_phone_flag(super().get_queryset(request), request).annotate(
            member_total=Count("members", filter=Q(members__is_current=True)),
            may_list_members=Value(may_list, output_field=BooleanField()),
        )

    @display(description=gettext_lazy("会员数"), ordering="member_total")
    def members_display(self, obj):
        if not obj.member_total or not obj.may_list_members:
            return obj.member_total
        query = urlencode({"staff__id__exact": obj.pk, "is_current__exact": 1})
        url = f"{reverse('admin:stores_storemember_changelist')}?{query}"
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.member_total)

    # A guide's account is a buyer's: a guide with no nickname is named by a phone masked
    # unless the staff member may see phones, as on 门店会员.
    @admin.display(description=gettext_lazy("员工"), ordering="user__nickname")
    def staff_user(self, obj):
        return user_text(obj.user, full_phones(obj))

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        staff = staff_service.add(
            form.cleaned_data["store"],
            form.cleaned_data["phone"],
            form.cleaned_data["role"],
            make_distributor=form.cleaned_data.get("make_distributor", False) and self.may_designate(request),
            by=request.user,
        )
        obj.pk, obj.user_id, obj.store_id = staff.pk, staff.user_id, staff.store_id

    def response_add(self, request, obj, post_url_continue=None):
        # What a new guide needs next: their own code, printed or sent to them.
        user = request.user
        if user.has_perm("stores.view_storeqr") or user.has_perm("stores.change_storeqr"):
            url = reverse("admin:stores_storeqr_change", args=[obj.store_id])
            messages.info(
                request,
                format_html(
                    '{} <a class="text-primary-600" href="{}">{}</a>',
                    _("下一步：员工的导购码和海报在门店码页，可下载后发给员工或打印张贴。"),
                    url,
                    _("打开门店码页"),
                ),
            )
        return super().response_add(request, obj, post_url_continue)

    def save_related(self, request, form, formsets, change):
        pass

    def has_delete_permission(self, request, obj=None):
        return False  # staff who leave keep their members and commission history

    @staticmethod
    def may_designate(request) -> bool:
        """指定分销 makes distributors: it takes the distributor page's own permission, as there."""
        return request.user.has_perm("distribution.add_distributor")

    def has_designate_permission(self, request, obj=None):
        # One name for both rights: Django offers a bulk action when any one of its
        # permissions holds (unfold runs it only when all do).
        return self.has_change_permission(request) and self.may_designate(request)

    @admin.display(description=gettext_lazy("分销商"))
    def distributor_status(self, obj):
        distributor = getattr(obj.user, "distributor", None) if hasattr(obj.user, "distributor") else None
        if distributor is None:
            return _("否")
        return distributor.get_status_display()

    @action(description=gettext_lazy("设为分销商（指定分销）"), permissions=["designate"])
    def make_distributors(self, request, queryset):
        made = 0
        for staff in queryset.select_related("user"):
            was = Distributor.objects.filter(user=staff.user, status=Distributor.Status.ACTIVE).exists()
            staff_service.make_guide_distributor(staff, by=request.user)
            made += not was
        messages.success(request, _("已设为分销商 %(count)s 人") % {"count": made})

    @action(description=gettext_lazy("离职（保留历史会员与佣金）"), permissions=["change"])
    def leave(self, request, queryset):
        chosen = list(queryset.values_list("pk", flat=True))
        left = staff_service.remove_many(chosen)
        if left:
            messages.success(request, _("已设为离职 %(count)s 人") % {"count": left})
        if already := len(chosen) - left:
            messages.info(request, _("%(count)s 人原本已离职，未改动") % {"count": already})
