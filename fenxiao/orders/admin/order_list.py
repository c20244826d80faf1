"""The order list as a merchant works it: state tabs with their counts across the top, one
search box that finds an order by anything staff have at hand (number, product, phones,
tracking number, distributor, 商家备注), and columns that say what was bought and who sold it.

The list reads a fixed number of queries whatever the rows: the page's orders with buyer and
attributed distributor joined, their lines prefetched (one query), and the tab counts as one
conditional aggregate. Search reads the matching order ids first, as a union of one lookup
per table (never a join to the to-many parts, so the rows never need DISTINCT and the
counts never double): a phone number, an order number (or its start) or a waybill through
indexes alone (`indexed_search`), any other word also through the text columns, which have
trigram indexes on PostgreSQL (`word_search`).
"""

import functools
import re

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import BooleanField, Count, Exists, F, OuterRef, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex, Upper
from django.db.models.lookups import Exact, GreaterThan
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import format_fen
from fenxiao.core.numbers import half_width
from fenxiao.customers.backoffice.listing import phone_text

from ..models import (
    OPEN_AFTER_SALE,
    AfterSale,
    Fulfilment,
    Order,
    OrderLine,
    OrderStatus,
    Parcel,
    awaiting_pickup,
)

TAB_PARAM = "tab"
# Longer search text is cut: nobody types more to find an order, and each word is one
# more OR over the order table.
MAX_SEARCH_TERMS = 4
MAX_TERM_LENGTH = 40
# A phone, order number or waybill names a handful of orders; the ids of up to this many are
# passed to the list's query as they are (see indexed_search).
MAX_INDEXED_IDS = 500
# A search by words lists up to this many on PostgreSQL, as one array (see `probed`).
MAX_LISTED_IDS = 20_000


def open_after_sale() -> Q:
    # The returns flow may add open statuses to OPEN_AFTER_SALE; reading the constant keeps
    # 售后中 in step with it. An IN over the (few) open after-sales, not a correlated
    # EXISTS: counted over every order for the tabs, the database hashes the open ones once
    # instead of probing the after-sale index for each order.
    return Q(pk__in=AfterSale.objects.filter(status__in=OPEN_AFTER_SALE).values("order_id"))


# (key, label, condition); None is every order. Order is the order of the tabs.
TABS = (
    ("all", gettext_lazy("全部"), None),
    ("pending_payment", gettext_lazy("待付款"), Q(status=OrderStatus.PENDING_PAYMENT)),
    # A paid group-buy order waits for its group to fill before it may ship or be picked up,
    # and a paid 到店自提 order is never shipped (it waits at its store for staff there to
    # verify its code): each has its own tab, and 待发货 lists only the orders to ship now,
    # as the dashboard's to-do counts them.
    ("awaiting_group", gettext_lazy("待成团"), Q(status=OrderStatus.PENDING_SHIPMENT, awaiting_group=True)),
    (
        "pending_shipment",
        gettext_lazy("待发货"),
        Q(status=OrderStatus.PENDING_SHIPMENT, awaiting_group=False, fulfilment=Fulfilment.DELIVERY),
    ),
    ("pending_pickup", gettext_lazy("待自提"), awaiting_pickup()),
    ("shipped", gettext_lazy("已发货"), Q(status=OrderStatus.SHIPPED)),
    ("completed", gettext_lazy("已完成"), Q(status=OrderStatus.COMPLETED)),
    ("closed", gettext_lazy("已关闭"), Q(status=OrderStatus.CANCELLED)),
    ("after_sale", gettext_lazy("售后中"), None),  # condition built per query: it is a subquery
)
TAB_KEYS = {key for key, _, _ in TABS}
# Older links (the dashboard's to-do panel) still filter by status; they open on their tab.
TAB_OF_STATUS = {
    OrderStatus.PENDING_PAYMENT: "pending_payment",
    OrderStatus.PENDING_SHIPMENT: "pending_shipment",
    OrderStatus.SHIPPED: "shipped",
    OrderStatus.COMPLETED: "completed",
    OrderStatus.CANCELLED: "closed",
}
STATUS_PARAMS = ("status", "status__exact")


def tab_condition(key: str):
    if key == "after_sale":
        return open_after_sale()
    for tab, _label, condition in TABS:
        if tab == key:
            return condition
    return None


class OrderTabFilter(admin.SimpleListFilter):
    """The tab as a list filter, so every other link of the list (filters, sorting, pages)
    keeps it. It draws nothing in the filter panel but a hidden field, so submitting the
    panel keeps the tab too; the tabs themselves are drawn above the list."""

    title = gettext_lazy("订单状态")
    parameter_name = TAB_PARAM
    template = "admin/orders/order_tab_filter.html"

    def __init__(self, request, params, model, model_admin):
        if TAB_PARAM not in params:
            for name in STATUS_PARAMS:
                if name in params:
                    status = params.pop(name)[-1]
                    # An unknown status shows nothing, as filtering by it always did.
                    params[TAB_PARAM] = [TAB_OF_STATUS.get(status, "none")]
        else:
            for name in STATUS_PARAMS:
                params.pop(name, None)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(key, label) for key, label, _ in TABS if key != "all"]

    def queryset(self, request, queryset):
        key = self.value()
        if not key or key == "all":
            return queryset
        condition = tab_condition(key)
        return queryset.filter(condition) if condition is not None else queryset.none()


class SourceFilter(admin.SimpleListFilter):
    """分销订单 (a distributor was credited at checkout, self-purchases included) or 普通订单,
    read from the attribution frozen on the order."""

    title = gettext_lazy("订单来源")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [("distribution", _("分销订单")), ("direct", _("普通订单"))]

    def queryset(self, request, queryset):
        if self.value() == "distribution":
            return queryset.filter(attribution__level1__isnull=False)
        if self.value() == "direct":
            # An order without an attribution row is a direct sale too (the outer join's null).
            return queryset.filter(attribution__level1__isnull=True)
        return queryset


def tab_counts(queryset) -> dict[str, int]:
    """Every tab's count over `queryset` (the list with all filters but the tab), in one
    query."""
    # Aliased: a tab may share its key with a field of the order (awaiting_group).
    aggregates = {"tab_all": Count("pk")}
    for key, _label, _condition in TABS[1:]:
        aggregates[f"tab_{key}"] = Count("pk", filter=tab_condition(key))
    counts = queryset.order_by().aggregate(**aggregates)
    return {key.removeprefix("tab_"): count for key, count in counts.items()}


def tabs_context(changelist, request) -> list[dict]:
    # The list's own query has just searched for the same words in this request: its ids
    # are reused rather than searched for again (`search`).
    counts = tab_counts(changelist.get_queryset(request, exclude_parameters=[TAB_PARAM]))
    spec = next((s for s in changelist.filter_specs if isinstance(s, OrderTabFilter)), None)
    active = (spec.value() if spec else None) or "all"
    # The 筛选 button lights up for filters chosen in its panel, not for the tab shown.
    changelist.has_active_filters = any(
        s.used_parameters for s in changelist.filter_specs if not isinstance(s, OrderTabFilter)
    )
    return [
        {
            "key": key,
            "label": label,
            "count": counts[key],
            "active": key == active,
            # Other filters and the search stay; the page goes back to the first.
            "url": changelist.get_query_string(
                {TAB_PARAM: key} if key != "all" else {}, [TAB_PARAM, "status"]
            ),
        }
        for key, label, _ in TABS
    ]


# --- search ---------------------------------------------------------------------------------


# The shapes staff paste or scan, each found through an index (see `indexed_search`).
# A mainland mobile number, whole.
PHONE = re.compile(r"1[0-9]{10}")
# Twelve digits or more: an order number (events.new_number: 14 digits of time, 6 random;
# a scanner types all 20) or its start, or a waybill of digits only (中通, 韵达 …).
ORDER_NUMBER = re.compile(r"[0-9]{20}")
DIGITS = re.compile(r"[0-9]{12,20}")
# What a phone number may contain part of.
ASCII_DIGITS = re.compile(r"[0-9]+")
# A waybill with letters: SF1234567890, JD0012345678901, EA123456789CN. At least nine
# digits, so a product's name or model (iPhone15, A4纸) still searches everything.
WAYBILL = re.compile(r"[A-Za-z]{1,4}[0-9]{9,30}[A-Za-z]{0,2}")


def indexed_search(term: str):
    """The orders a phone number, an order number (or its start) or a waybill names, as a
    union of lookups that each read one index, or None when `term` has none of those shapes.

    An OR of every field across joined tables reads every order (200,000 orders: 2–5 s). A
    union of one indexed lookup per place the term can be stays in
    milliseconds. A whole phone or waybill is matched whole, as the general search finds it
    (a phone column holds 11 characters, so "contains" is "equals"); a 商家备注 or product
    name that merely contains such a number is not searched."""

    def ids(*conditions, **lookups):
        return Order.objects.order_by().filter(*conditions, **lookups).values_list("pk")

    def upper_is(field: str):
        # Case-blind as `iexact`, in a form the UPPER() indexes serve on SQLite too (its
        # iexact is a LIKE, which no index serves).
        return Exact(Upper(field), term.upper())

    if PHONE.fullmatch(term):
        branches = [
            ids(buyer__phone=term),
            ids(recipient_phone=term),
            ids(attribution__level1__user__phone=term),
        ]
    elif DIGITS.fullmatch(term) or WAYBILL.fullmatch(term):
        branches = [
            ids(upper_is("tracking_number")),
            # An order shipped in several parcels keeps only the latest waybill on itself.
            Parcel.objects.order_by().filter(upper_is("tracking_number")).values_list("order_id"),
            # A referral code (8 characters when generated): a lookup, not an expression, so
            # the join stays inner and is read from the (small) distributor table.
            ids(attribution__level1__referral_code__iexact=term),
        ]
        if ORDER_NUMBER.fullmatch(term):
            branches.append(ids(number=term))
        elif DIGITS.fullmatch(term):
            branches.append(ids(number__startswith=term))
    else:
        return None
    return probed(branches[0].union(*branches[1:], all=True), MAX_INDEXED_IDS)


def word_search(term: str, within: list[int] | None = None) -> Q:
    """The orders one search word finds in any field staff search by: its number, the
    buyer's or recipient's phone (any part), the recipient, a product, a waybill (the
    order's or any parcel's, whole and case-blind), the attributed (level 1) distributor's
    name, nickname, phone or referral code, and the 商家备注. `within`: only among these
    orders (those an earlier word of the search found).

    Asked as one OR across the joined tables, the database read every order with its joins
    and probed the lines for each (200,000 orders on PostgreSQL: 1.3–6 s a page). A union
    of one lookup per table lets each table be read by its own plan: on PostgreSQL the
    order's and the lines' text columns have trigram indexes (migration 0019); a word they
    cannot serve reads the order and line tables once, without joins. 200,000 orders: 0.05–
    0.5 s a page, and the ids are read once per page (`search`)."""

    if within is None and ASCII_DIGITS.fullmatch(term) and len(term) <= 2:
        # One or two digits are in a good part of all phones: more orders than are listed
        # (see below), without reading them to find out.
        return every_field(term)

    def scoped(queryset, field="pk"):
        queryset = queryset.order_by()
        return queryset.filter(**{f"{field}__in": within}) if within is not None else queryset

    def ids(*conditions, **lookups):
        return scoped(Order.objects).filter(*conditions, **lookups).values_list("pk")

    def upper_is(field: str):
        return Exact(Upper(field), term.upper())

    # Cheapest first: the probe (see `probed`) stops reading once it has more ids than it
    # lists, so a word found in most orders (a phone digit, a common nickname) stops
    # before the scans of the order and line tables.
    branches = [
        ids(number=term),
        ids(upper_is("tracking_number")),
        # An order shipped in several parcels keeps only the latest waybill on itself.
        scoped(Parcel.objects, "order").filter(upper_is("tracking_number")).values_list("order_id"),
        # The attributed (level 1) distributor, frozen at checkout: the distributor table
        # is small, and read whole.
        ids(
            Q(attribution__level1__real_name__icontains=term)
            | Q(attribution__level1__user__nickname__icontains=term)
            | Q(attribution__level1__user__phone__contains=term)
            | Q(attribution__level1__referral_code__iexact=term)
        ),
    ]
    if ASCII_DIGITS.fullmatch(term):
        # Phones hold digits only (validated wherever one is typed): another word cannot
        # be part of one, and is not looked for in the buyers' and recipients' phones.
        branches += [
            ids(trigram_contains("recipient_phone", term, case_blind=False)),
            ids(buyer__phone__contains=term),
        ]
    branches += [
        ids(trigram_contains("recipient", term) | trigram_contains("merchant_note", term)),
        scoped(OrderLine.objects, "order")
        .filter(trigram_contains("product_name", term))
        .values_list("order_id"),
    ]
    condition = probed(branches[0].union(*branches[1:], all=True))
    if listed(condition) is None:
        # Too many to list (a tenth of 200,000 orders): the OR over every field serves them
        # as well as anything (the page fills early, the counts read every order anyway),
        # and better than the union, which the page, its count and the tab counts would
        # each read whole.
        condition = every_field(term)
        if within is not None:
            condition &= Q(pk__in=within)
    return condition


def every_field(term: str) -> Q:
    """The orders one word finds in any field, as one condition over the order and its
    joins (the search before `word_search`; the same orders)."""
    condition = (
        Q(number=term)
        | Q(buyer__phone__contains=term)
        | Q(recipient_phone__contains=term)
        | Q(recipient__icontains=term)
        | Q(tracking_number__iexact=term)
        | Q(Exists(OrderLine.objects.filter(order=OuterRef("pk"), product_name__icontains=term)))
        | Q(attribution__level1__real_name__icontains=term)
        | Q(attribution__level1__user__nickname__icontains=term)
        | Q(attribution__level1__user__phone__contains=term)
        | Q(attribution__level1__referral_code__iexact=term)
        | Q(merchant_note__icontains=term)
    )
    return condition | Q(Exists(Parcel.objects.filter(order=OuterRef("pk"), tracking_number__iexact=term)))


def trigram_contains(field: str, term: str, *, case_blind: bool = True) -> Q:
    """`field__icontains=term` (or `contains`), in a form a trigram index serves only when
    it can.

    pg_trgm finds a substring through the trigrams of the word typed: from a run of fewer
    than three word characters it extracts none (张三, 茶叶, "A4"), nor from CJK text where
    the database's LC_CTYPE is C. A GIN index scan then reads the whole index and rechecks
    every row (the planner, guessing a few rows, prefers it: 0.7 s over 360,000 order lines
    instead of a 0.1 s sequential scan). Such a word is tested with STRPOS, the same
    containment as LIKE '%…%' but one no index serves."""
    lookup = "icontains" if case_blind else "contains"
    if connection.vendor != "postgresql" or has_trigram(term):
        return Q(**{f"{field}__{lookup}": term})
    column, text = (Upper(field), Upper(Value(term))) if case_blind else (F(field), Value(term))
    return Q(GreaterThan(StrIndex(column, text), 0))


def has_trigram(term: str) -> bool:
    """Whether pg_trgm extracts a trigram from LIKE '%term%': a run of three characters it
    counts as a word's (letters and digits; beyond ASCII only where LC_CTYPE classifies
    them, which `trigram_letters` asks the database once)."""
    run = 0
    for char in term:
        word = char.isalnum() and (char.isascii() or trigram_letters())
        run = run + 1 if word else 0
        if run >= 3:
            return True
    return False


@functools.cache
def trigram_letters() -> bool:
    """Whether pg_trgm counts CJK characters as a word's on this database (its LC_CTYPE is
    not C); False without pg_trgm, whose trigram indexes are then missing anyway."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return False
        cursor.execute("SELECT cardinality(show_trgm('茶叶礼')) > 0")
        return cursor.fetchone()[0]


def probed(matches, limit: int | None = None) -> Q:
    """`pk__in=matches`, with the ids themselves when there are not too many.

    Read first, stopping at `limit` + 1 rows, so the list's queries get the ids themselves:
    given the matches as a subquery, the planner guesses them many and walks the whole
    order table newest first to fill a page of 50 (100+ ms instead of 1), and the page, its
    count and the tab counts would each run the search again. Up to MAX_INDEXED_IDS they
    are listed in the query; on PostgreSQL up to MAX_LISTED_IDS pass as one array (a common
    product word over 200,000 orders: 16,000 ids, 130 KB). More stay a subquery (a word
    finding that many searches every field instead, see `word_search`)."""
    if limit is None:
        limit = MAX_LISTED_IDS if connection.vendor == "postgresql" else MAX_INDEXED_IDS
    rows = list(matches[: limit + 1])
    if len(rows) > limit:
        return Q(pk__in=matches)
    return ids_condition(sorted({pk for (pk,) in rows}))


def ids_condition(ids: list[int]) -> Q:
    if len(ids) <= MAX_INDEXED_IDS or connection.vendor != "postgresql":
        return Q(pk__in=ids)
    column = f"{connection.ops.quote_name(Order._meta.db_table)}.{connection.ops.quote_name('id')}"
    # Quoted names and integer ids passed as a parameter: no outside text reaches the SQL.
    return Q(RawSQL(f"{column} = ANY(%s)", (ids,), output_field=BooleanField()))  # noqa: S611


def search(queryset, search_term: str, request=None):
    """The orders the search box's words find. With the page's `request`, the conditions
    (the ids they read) are kept on it, so the tab counts, which search for the same words
    in the same request, reuse them instead of reading them again."""
    kept = getattr(request, "order_search", None)
    if kept is not None and kept[0] == search_term:
        return queryset.filter(*kept[1])
    conditions = search_conditions(search_term)
    if request is not None:
        request.order_search = (search_term, conditions)
    return queryset.filter(*conditions)


def search_conditions(search_term: str) -> list[Q]:
    # Staff on a full-width keyboard type １３８ …: the digits stored are ASCII.
    terms = [t[:MAX_TERM_LENGTH] for t in half_width(search_term or "").split()][:MAX_SEARCH_TERMS]
    if len(terms) == 1 and (condition := indexed_search(terms[0])) is not None:
        return [condition]
    # Every word must match, each in any field. The longest first (the likeliest to be
    # rare and to have trigrams): once the orders found are few, the next words are only
    # looked for among them. The ids each word lists are intersected here; a word finding
    # too many to list stays a subquery.
    conditions, within = [], None
    for term in sorted(terms, key=len, reverse=True):
        scope = within if within is not None and len(within) <= MAX_INDEXED_IDS else None
        condition = word_search(term, scope)
        if (found := listed(condition)) is None:
            conditions.append(condition)
        else:
            within = found if within is None else sorted(set(within).intersection(found))
    if within is not None:
        conditions.append(ids_condition(within))
    return conditions


def listed(condition: Q) -> list[int] | None:
    """The ids a `probed` condition lists, or None when it is a subquery."""
    if len(condition.children) != 1 or condition.negated:
        return None
    (child,) = condition.children
    if isinstance(child, RawSQL):
        return child.params[0]
    if isinstance(child, tuple) and child[0] == "pk__in" and isinstance(child[1], list):
        return child[1]
    return None


# --- columns --------------------------------------------------------------------------------


def number_cell(order) -> str:
    """The order number, with the 商家备注 under it (cut short; the whole note on hover)."""
    if not order.merchant_note:
        return order.number
    return format_html(
        '<div>{}</div><div class="text-xs text-primary-600 truncate max-w-48 dark:text-primary-500" '
        'title="{}">{}</div>',
        order.number,
        order.merchant_note,
        _("备注：%(note)s") % {"note": order.merchant_note},
    )


def products_cell(order) -> str:
    lines = list(order.lines.all())  # prefetched
    if not lines:
        return "-"
    first = lines[0]
    quantity = sum(line.quantity for line in lines)
    more = _("等%(quantity)s件") % {"quantity": quantity} if len(lines) > 1 else f"×{first.quantity}"
    image = (
        format_html(
            '<img src="{}" alt="" width="40" height="40" loading="lazy" '
            'class="w-10 h-10 rounded-default object-cover shrink-0">',
            first.image_url,
        )
        if first.image_url
        else format_html(
            '<span class="{}"></span>', "w-10 h-10 rounded-default bg-base-100 shrink-0 dark:bg-base-800"
        )
    )
    return format_html(
        '<div class="flex items-center gap-2 min-w-48 max-w-72">{}<div class="min-w-0">'
        '<div class="truncate text-font-important-light dark:text-font-important-dark" title="{}">{}</div>'
        '<div class="text-xs text-base-500">{}{}</div></div></div>',
        image,
        first.product_name,
        first.product_name,
        f"{first.spec_text} " if first.spec_text and len(lines) == 1 else "",
        more,
    )


def attributed_distributor(order):
    try:
        attribution = order.attribution
    except ObjectDoesNotExist:
        return None
    return attribution.level1 if attribution else None


def distributor_cell(order, full_phone: bool) -> str:
    distributor = attributed_distributor(order)
    if distributor is None:
        return "-"
    user = distributor.user
    name = distributor.real_name or user.nickname or distributor.referral_code
    return format_html(
        '<div>{}</div><div class="text-xs text-base-500">{}</div>',
        name,
        phone_text(user.phone, full_phone) if user.phone else distributor.referral_code,
    )


def amount_cell(order) -> str:
    shipping = (
        _("含运费 %(shipping_fee)s") % {"shipping_fee": format_fen(order.shipping_fee)}
        if order.shipping_fee
        else _("免运费")
    )
    return format_html(
        '<div class="font-medium text-font-important-light dark:text-font-important-dark">{}</div>'
        '<div class="text-xs text-base-500">{}</div>',
        format_fen(order.total),
        shipping,
    )


def time_cell(order) -> str:
    created = f"{timezone.localtime(order.created_at):%Y-%m-%d %H:%M}"
    if order.paid_at is None:
        return created
    return format_html(
        '<div>{}</div><div class="text-xs text-base-500">{}</div>',
        created,
        _("付款 %(time)s") % {"time": f"{timezone.localtime(order.paid_at):%m-%d %H:%M}"},
    )
