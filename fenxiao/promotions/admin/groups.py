"""拼团: the groups of every group-buy promotion with their members, read only (groups open,
fill, succeed and fail through services.groups and the sweeper).

The leader and members are named by phone when they have no nickname: masked (138****1234)
unless the staff member may see phones, as on the order pages (`with_phone_flag` on the rows)."""

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.decorators import display

from fenxiao.core.admin import ReadOnlyAdmin, ReadOnlyInline, user_text
from fenxiao.customers.backoffice.listing import full_phones, with_phone_flag

from ..models import GroupBuy, GroupMember, GroupMemberStatus, GroupStatus
from .common import badge, link, local_time, order_link, with_links

GROUP_BADGES = {GroupStatus.OPEN: "info", GroupStatus.SUCCEEDED: "success", GroupStatus.FAILED: "danger"}


class MemberInline(ReadOnlyInline):
    model = GroupMember
    fields = ("member_display", "is_leader", "status", "order_display", "joined_display")
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "成员")

    def get_queryset(self, request):
        # Inline instances are made per request: whether the rows may link their orders.
        self.links_orders = request.user.has_perm("orders.view_order")
        return with_phone_flag(super().get_queryset(request).select_related("buyer", "order"), request)

    @display(description=gettext_lazy("成员"))
    def member_display(self, obj):
        return _("虚拟成员") if obj.is_virtual else user_text(obj.buyer, full_phones(obj))

    @display(description=gettext_lazy("订单"))
    def order_display(self, obj):
        """The member's order opens (its payment, refund and events), for staff who may see it."""
        return order_link(obj, getattr(self, "links_orders", False))

    @display(description=gettext_lazy("参团时间"))
    def joined_display(self, obj):
        return local_time(obj.joined_at)


@admin.register(GroupBuy)
class GroupBuyAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "promotion",
        "product_display",
        "leader_display",
        "members_display",
        "status_badge",
        "deadline_display",
    )
    # Only the promotions that have groups: every flash sale and 满减 would crowd the choice.
    list_filter = ("status", ("promotion", admin.RelatedOnlyFieldListFilter))
    search_fields = ("promotion__name", "leader__phone", "item__product__name")
    search_help_text = gettext_lazy("按活动名称、团长手机号或商品名称搜索")
    list_select_related = ("promotion", "item__product", "leader")
    fields = (
        "promotion",
        "product_display",
        "leader_display",
        "members_display",
        "status_badge",
        "deadline_display",
        "closed_display",
        "created_display",
    )
    readonly_fields = fields
    inlines = (MemberInline,)

    @property
    def empty_hint(self):
        new_group = reverse("admin:promotions_promotion_add") + "?kind=group"
        return with_links(
            _("买家在拼团商品页开团后，团和成员会出现在这里；先{new}"),
            new=link(new_group, _("新建拼团活动")),
        )

    def get_queryset(self, request):
        # How many paid members a failed group has refunded, counted with the rows: 已付款
        # stays the number who paid, so the list also says the money went back.
        refunded = Count("members", filter=Q(members__status=GroupMemberStatus.REFUNDED))
        return with_phone_flag(super().get_queryset(request).annotate(refunded_count=refunded), request)

    @display(description=gettext_lazy("商品"))
    def product_display(self, obj):
        return obj.item.product.name

    @display(description=gettext_lazy("团长"))
    def leader_display(self, obj):
        return user_text(obj.leader, full_phones(obj))

    @display(description=gettext_lazy("已付款 / 已占 / 成团人数"))
    def members_display(self, obj):
        counts = f"{obj.paid_count} / {obj.seats_taken} / {obj.size}"
        if obj.refunded_count:
            return _("%(counts)s（已退款 %(refunded)s）") % {"counts": counts, "refunded": obj.refunded_count}
        return counts

    @display(description=gettext_lazy("状态"), ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), GROUP_BADGES.get(obj.status, ""))

    @display(description=gettext_lazy("截止时间"), ordering="deadline")
    def deadline_display(self, obj):
        return local_time(obj.deadline)

    @display(description=gettext_lazy("成团/失败时间"))
    def closed_display(self, obj):
        return local_time(obj.closed_at)

    @display(description=gettext_lazy("开团时间"))
    def created_display(self, obj):
        return local_time(obj.created_at)
