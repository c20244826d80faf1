"""商城余额流水: every buyer's store-credit entries, read-only, for staff who may read
wallets (`customers.view_walletentry`: 运营 and 财务).

Money moves only through `services.wallet` (and the services that call it): this list adds,
changes and deletes nothing. A page costs the same queries whatever it shows: the buyers
are joined, the balance after each entry is summed in the list's own query, the linked
order, after-sale or withdrawal is named by the entry's `source_key` without being read.
Phones are masked (138****1234) unless the staff member has `customers.view_customer_phone`,
on the page and in the export alike.
"""

from django.contrib import admin
from django.db.models import BooleanField, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy
from unfold.decorators import display

from fenxiao.core.admin import ReadOnlyAdmin
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.core.money import format_fen

from ..models import WalletEntry
from .exports import WALLET_ENTRIES
from .listing import may_see_phones, phone_text
from .wallet import kinds, of_kind, signed_amount, source_keys_for, source_of, with_balance_after

# Short cells stay on one line (a time, "+¥3.00"); the note takes what width is left.
NOWRAP = '<span class="whitespace-nowrap">{}</span>'


class KindFilter(admin.SimpleListFilter):
    title = gettext_lazy("类型")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return kinds()

    def queryset(self, request, queryset):
        return of_kind(queryset, self.value() or "")


def _buyer_url(user) -> str:
    # Staff accounts (rarely holding store credit) have no customer profile.
    if user.is_staff or user.is_superuser:
        return reverse("admin:customers_user_change", args=[user.pk])
    return reverse("admin:customers_customer_change", args=[user.pk])


@admin.register(WalletEntry)
class WalletEntryAdmin(ExportMixin, ReadOnlyAdmin):
    list_display = (
        "time_display",
        "buyer_display",
        "kind_display",
        "amount_display",
        "balance_display",
        "note_display",
        "source_display",
    )
    list_filter = (KindFilter, ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("user__phone",)
    search_help_text = gettext_lazy("按买家手机号、订单号、售后单号或提现单号搜索")
    list_select_related = ("user",)
    # Every column is on the list: a row has no page of its own to open (its read-only
    # page stays reachable by address, for a link pasted by a colleague).
    list_display_links = None
    ordering = ("-id",)
    list_per_page = 50
    export = WALLET_ENTRIES
    fields = (
        "time_display",
        "buyer_display",
        "kind_display",
        "amount_display",
        "balance_display",
        "note_display",
        "source_display",
        "source_key",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # Whether this request may see full phones travels with the rows: the admin object
        # is shared by every request, so it cannot hold it.
        return with_balance_after(
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(full_phone=Value(may_see_phones(request), output_field=BooleanField()))
        )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        keys = source_keys_for(search_term)
        if keys:
            results = results | queryset.filter(source_key__in=keys)
        return results, may_have_duplicates

    # --- columns ---

    @display(description=gettext_lazy("时间"), ordering="id")
    def time_display(self, obj):
        return format_html(NOWRAP, f"{timezone.localtime(obj.created_at):%Y-%m-%d %H:%M}")

    @display(description=gettext_lazy("买家"))
    def buyer_display(self, obj):
        # The name above, the phone (masked unless this request may see it) below.
        user = obj.user
        phone = phone_text(user.phone, getattr(obj, "full_phone", False)) if user.phone else ""
        name = user.nickname or phone or user.username
        return format_html(
            '<div><a class="text-primary-600 dark:text-primary-500 whitespace-nowrap" href="{}">{}</a>'
            '<div class="text-base-500 text-xs whitespace-nowrap" data-phone>{}</div></div>',
            _buyer_url(user),
            name,
            phone if user.nickname else "",
        )

    @display(description=gettext_lazy("类型"))
    def kind_display(self, obj):
        return format_html(NOWRAP, source_of(obj)[0])

    @display(description=gettext_lazy("金额"), ordering="amount")
    def amount_display(self, obj):
        colour = "text-green-700 dark:text-green-400" if obj.amount > 0 else "text-red-700 dark:text-red-400"
        return format_html(
            '<span class="{} whitespace-nowrap" data-amount>{}</span>', colour, signed_amount(obj.amount)
        )

    @display(description=gettext_lazy("变动后余额"))
    def balance_display(self, obj):
        return format_html(NOWRAP, format_fen(getattr(obj, "balance_after", None)))

    @display(description=gettext_lazy("说明"))
    def note_display(self, obj):
        return obj.note_text or "-"

    @display(description=gettext_lazy("关联单据"))
    def source_display(self, obj):
        _kind, label, _key, url = source_of(obj)
        if not url:
            return format_html(NOWRAP, label or "-")
        return format_html(
            '<a class="text-primary-600 dark:text-primary-500 whitespace-nowrap" href="{}">{}</a>', url, label
        )
