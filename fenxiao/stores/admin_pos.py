"""门店 › 收银系统密钥 and 门店销售 in the backend: staff create a store's POS key (the secret is
shown once, on the page after creating it), revoke keys, and read the sales (and their returns)
the tills pushed.
Registered from `StoresConfig.ready` so the main stores admin stays its own module.

The buyer's phone on a sale (and the member it names) is masked (138****1234) unless the
staff member may see phones, as on the order pages (`with_phone_flag` on the rows)."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from fenxiao.core.admin import ReadOnlyAdmin, ReadOnlyInline, fen_column, label_display, user_text
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.customers.backoffice.listing import full_phones, phone_text, with_phone_flag

from .exports import OFFLINE_SALES
from .pos_models import OfflineRefund, OfflineSale, OfflineSaleLine, PosApiKey
from .services import pos_keys


@admin.register(PosApiKey)
class PosApiKeyAdmin(ModelAdmin):
    list_display = ("key_id", "store", "name", "status_label", "created_at", "last_used_at", "revoked_at")
    list_filter = ("is_active", "store")
    search_fields = ("key_id", "name", "store__name")
    search_help_text = gettext_lazy("按密钥 ID、名称或门店名称搜索")
    list_select_related = ("store",)
    actions = ["revoke_selected"]
    readonly_fields = ("key_id", "is_active", "created_at", "created_by", "last_used_at", "revoked_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("store", "name")
        return ("store", "name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return ("store", *self.readonly_fields) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the sales a key pushed keep pointing at it

    @label_display(description=gettext_lazy("状态"), label={"active": "success", "revoked": "danger"})
    def status_label(self, obj):
        return ("active", _("启用")) if obj.is_active else ("revoked", _("已停用"))

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        obj.created_by = request.user
        secret = pos_keys.issue(obj)
        messages.warning(
            request,
            _(
                "密钥已创建。密钥 ID（Key ID）：%(key_id)s　签名密钥（Secret）：%(secret)s　"
                "签名密钥只显示这一次，请立即复制到收银系统；遗失后请停用并新建密钥。"
            )
            % {"key_id": obj.key_id, "secret": secret},
        )
        # What to do with the key next: the till's developer signs its calls as documented.
        messages.info(
            request,
            format_html(
                '{} <a class="underline" href="{}" target="_blank" rel="noopener">{}</a>',
                _("收银系统的签名方式与接口见接口文档的“门店收银 POS”分组："),
                reverse("api:openapi-view"),
                _("打开接口文档"),
            ),
        )

    @action(description=gettext_lazy("停用所选密钥"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        count = pos_keys.revoke_keys(queryset.values_list("pk", flat=True))
        self.message_user(request, _("已停用 %(count)s 个密钥") % {"count": count})


class OfflineSaleLineInline(ReadOnlyInline):
    model = OfflineSaleLine
    fields = ("sku_code", "sku", "quantity", "amount_text", "refunded_quantity", "refunded_text")
    readonly_fields = fields
    amount_text = fen_column(gettext_lazy("金额"))
    refunded_text = fen_column(gettext_lazy("已退金额"), field="refunded_amount")


class OfflineRefundInline(ReadOnlyInline):
    model = OfflineRefund
    verbose_name_plural = pgettext_lazy("plural", "门店退货")
    fields = ("refund_no", "total_text", "refunded_at", "received_at")
    readonly_fields = fields
    total_text = fen_column(gettext_lazy("退款金额"), field="total")


@admin.register(OfflineSale)
class OfflineSaleAdmin(ExportMixin, ReadOnlyAdmin):
    list_display = ("sale_no", "store", "member", "total_text", "refunded_text", "sold_at", "received_at")
    # A day range to reconcile with a till's own report (a month, a shift's days).
    list_filter = ("store", ("sold_at", LocalDateRangeFilter))
    search_fields = ("=sale_no", "=buyer_phone")
    search_help_text = gettext_lazy("按完整小票号或会员手机号搜索")
    list_select_related = ("store", "buyer")
    inlines = [OfflineSaleLineInline, OfflineRefundInline]
    fields = (
        "store",
        "sale_no",
        "member",
        "buyer_phone_display",
        "total_text",
        "refunded_text",
        "sold_at",
        "received_at",
        "api_key",
    )
    readonly_fields = fields
    total_text = fen_column(gettext_lazy("金额"), field="total")
    refunded_text = fen_column(gettext_lazy("已退款"), field="refunded_amount")
    export = OFFLINE_SALES
    # Shown while the list is empty: sales are not typed here, the tills push them.
    empty_hint = gettext_lazy("门店收银系统接入后（门店 → 收银系统密钥），各门店的销售会自动出现在这里")

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request), request)

    @display(description=gettext_lazy("会员"))
    def member(self, obj):
        return user_text(obj.buyer, full_phones(obj)) if obj.buyer_id else _("（非会员）")

    @display(description=gettext_lazy("会员手机号"))
    def buyer_phone_display(self, obj):
        return phone_text(obj.buyer_phone, full_phones(obj))
