"""买家优惠券: every copy of a coupon a buyer holds, whether claimed in the 领券中心 or
handed out by staff, with its status and the order that used it. Read only: copies are
claimed, used, returned and voided through services.coupons.

The coupon page's 已领取 / 已使用 figures open this list for that coupon: the 发券记录 log
holds only staff hand-outs, so a coupon buyers claimed themselves showed a count there
with no way to see who holds it. Buyers are named by phone masked (138****1234) unless the
staff member may see phones, as on the other buyer lists."""

from django.contrib import admin
from django.db.models import BooleanField, Value
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import display

from fenxiao.core.admin import ReadOnlyAdmin, user_text
from fenxiao.customers.backoffice.listing import full_phones, with_phone_flag

from ..models import BuyerCoupon, BuyerCouponStatus
from .common import badge, link, local_time, order_link, with_links

STATUS_BADGES = {
    BuyerCouponStatus.UNUSED: "info",
    BuyerCouponStatus.USED: "success",
    BuyerCouponStatus.VOIDED: "danger",
}


def copies_url(coupon_id: int, status: str | None = None) -> str:
    """The list of a coupon's copies (only those in `status`, if given)."""
    url = reverse("admin:promotions_buyercoupon_changelist") + f"?coupon__id__exact={coupon_id}"
    return url + (f"&status__exact={status}" if status else "")


@admin.register(BuyerCoupon)
class BuyerCouponAdmin(ReadOnlyAdmin):
    list_display = (
        "coupon",
        "buyer_display",
        "source",
        "status_badge",
        "claimed_display",
        "valid_until_display",
        "order_display",
        "used_display",
    )
    list_filter = ("status", "source", "coupon")
    list_select_related = ("coupon", "buyer", "order")
    search_fields = ("coupon__name", "buyer__phone", "buyer__nickname")
    search_help_text = gettext_lazy("按券名称、买家手机号或昵称搜索")
    fields = list_display
    readonly_fields = fields

    @property
    def empty_hint(self):
        return with_links(
            _("买家在领券中心领取的券、商家发放的券都会出现在这里；先在{coupons}中新建一张券"),
            coupons=link(reverse("admin:promotions_coupon_changelist"), _("优惠券")),
        )

    def get_queryset(self, request):
        # One ModelAdmin serves every request: whether the rows may link their orders
        # travels with the rows, as the phone flag does.
        links = Value(request.user.has_perm("orders.view_order"), output_field=BooleanField())
        return with_phone_flag(super().get_queryset(request), request).annotate(links_order=links)

    @display(description=gettext_lazy("买家"))
    def buyer_display(self, obj):
        return user_text(obj.buyer, full_phones(obj))

    @display(description=gettext_lazy("状态"), ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), STATUS_BADGES.get(obj.status, ""))

    @display(description=gettext_lazy("领取时间"), ordering="claimed_at")
    def claimed_display(self, obj):
        return local_time(obj.claimed_at)

    @display(description=gettext_lazy("失效时间"), ordering="valid_until")
    def valid_until_display(self, obj):
        return local_time(obj.valid_until)

    @display(description=gettext_lazy("使用订单"))
    def order_display(self, obj):
        return order_link(obj, getattr(obj, "links_order", False))

    @display(description=gettext_lazy("使用时间"), ordering="used_at")
    def used_display(self, obj):
        return local_time(obj.used_at)
