"""门店会员 in the backend: every store's members, filtered by store, 当前归属, source and
join date, searched by member or guide, exported; read-only, as a membership is history."""

import copy

from django.contrib import admin
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import display

from fenxiao.core.admin import user_text
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.customers.backoffice.listing import full_phones, shown_user, with_phone_flag

from .exports import STORE_MEMBERS
from .models import StoreMember


@admin.register(StoreMember)
class StoreMemberAdmin(ExportMixin, ModelAdmin):
    """A buyer is named by their phone when they have no nickname: masked (138****1234) unless
    the staff member may see phones, as on the order pages (`with_phone_flag` on the rows)."""

    list_display = ("store", "buyer_display", "source", "staff_display", "joined_at", "is_current")
    # A buyer who scanned two stores is a member of both; 当前归属 is the one they count for
    # (the 门店报表's 会员数), 加入时间 a month's new members, 导购 whom a guide brought.
    list_filter = ("store", "is_current", "source", ("joined_at", LocalDateRangeFilter))
    list_select_related = ("store", "buyer", "staff__user")
    search_fields = (
        "buyer__phone",
        "buyer__nickname",
        "store__name",
        "staff__user__phone",
        "staff__user__nickname",
    )
    search_help_text = gettext_lazy("按会员或导购的手机号、昵称，或门店名称搜索")
    fields = ("store", "buyer_display", "source", "staff_display", "joined_at", "is_current")
    readonly_fields = fields
    export = STORE_MEMBERS

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A membership is history: deleting one would leave its buyer counted by no store
        # (when it was the current one) and take a member from the guide who brought them.
        return False

    def lookup_allowed(self, lookup, value, request=None):
        # 门店员工's 会员数 opens the members one guide brought (a 导购 picker in the filters
        # would list every guide of every store).
        return lookup == "staff__id__exact" or super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request), request)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:  # the page title and breadcrumb name the member
            shown = copy.copy(obj)
            shown.buyer = shown_user(obj.buyer, full_phones(obj))
            context = {**context, "original": shown, "subtitle": str(shown)}
        return super().render_change_form(request, context, add, change, form_url, obj)

    @display(description=gettext_lazy("会员"), ordering="buyer__phone")
    def buyer_display(self, obj):
        return user_text(obj.buyer, full_phones(obj))

    # The guide by name alone (the store is its own column), masked like the member: a
    # guide's account is a buyer's, and StoreStaff's str() would print the whole phone and
    # read the guide's store once per row.
    @display(description=gettext_lazy("导购"))
    def staff_display(self, obj):
        return user_text(obj.staff.user, full_phones(obj)) if obj.staff else "-"
