"""商城余额 (store credit) in the backend, read-only: the panel of the customer profile (the
balance and the latest entries, in two queries whatever the history) and what the
商城余额流水 list (`wallet_entries.py`) shares with it.

Each entry says what it was by its `source_key` (`services.wallet` writes one per order paid,
cancelled or refunded, and per withdrawal to the wallet), so a page links the record that
moved the money without reading it. The balance after an entry is the sum of the buyer's
entries up to it (the ledger is append-only: nothing else holds a balance)."""

from django.apps import apps
from django.db.models import BigIntegerField, Count, OuterRef, Q, Subquery, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import format_fen
from fenxiao.core.numbers import whole_number

from ..models import WalletEntry

ROWS = 20
PERMISSION = "customers.view_walletentry"
# Longest order, after-sale or withdrawal number (their `number` columns).
NUMBER_LENGTH = 32

# source_key prefix -> (kind, the linked record's label, its backend page)
SOURCES = {
    "order-pay": (gettext_lazy("余额支付"), gettext_lazy("订单"), "admin:orders_order_change"),
    "order-release": (gettext_lazy("取消退回"), gettext_lazy("订单"), "admin:orders_order_change"),
    "order-refund": (gettext_lazy("售后退款"), gettext_lazy("售后单"), "admin:orders_aftersale_change"),
    "withdrawal": (gettext_lazy("佣金提现"), gettext_lazy("提现单"), "admin:distribution_withdrawal_change"),
}
OTHER = "other"


def kinds() -> list[tuple[str, str]]:
    """(value, label) of every kind of entry, for a filter."""
    return [(prefix, kind) for prefix, (kind, _label, _page) in SOURCES.items()] + [(OTHER, _("其他"))]


def of_kind(queryset, value: str):
    """The entries of one kind (`kinds()`); an unknown value leaves the queryset as it is."""
    if value in SOURCES:
        return queryset.filter(source_key__startswith=f"{value}:")
    if value == OTHER:
        known = Q()
        for prefix in SOURCES:
            known |= Q(source_key__startswith=f"{prefix}:")
        return queryset.exclude(known)
    return queryset


def with_balance_after(queryset):
    """Annotate `balance_after`: the buyer's balance once the entry was written. One
    correlated sum per row shown, read in the list's own query (the rows of a page, or of
    an export chunk), so the filters of the list never change it."""
    upto = (
        WalletEntry.objects.filter(user_id=OuterRef("user_id"), pk__lte=OuterRef("pk"))
        .order_by()
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return queryset.annotate(balance_after=Subquery(upto, output_field=BigIntegerField()))


def _model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:  # that app is not installed
        return None


def source_keys_for(number: str) -> list[str]:
    """The source keys of the entries an order number (its payment, its release and its
    after-sales' refunds), an after-sale number or a withdrawal number moved money with:
    what the list's search matches besides the buyer's phone. Three indexed lookups."""
    number = (number or "").strip()
    if not number or len(number) > NUMBER_LENGTH:
        return []
    keys = []
    Order = _model("orders", "Order")
    if Order is not None:
        for pk in Order.objects.filter(number=number).values_list("pk", flat=True):
            keys += [f"order-pay:{pk}", f"order-release:{pk}"]
    AfterSale = _model("orders", "AfterSale")
    if AfterSale is not None:
        found = AfterSale.objects.filter(Q(number=number) | Q(order__number=number))
        keys += [f"order-refund:{pk}" for pk in found.values_list("pk", flat=True)]
    Withdrawal = _model("distribution", "Withdrawal")
    if Withdrawal is not None:
        keys += [
            f"withdrawal:{pk}" for pk in Withdrawal.objects.filter(number=number).values_list("pk", flat=True)
        ]
    return keys


def source_of(entry: WalletEntry) -> tuple[str, str, str, str]:
    """(kind, the linked record's label, its id, its backend page or "")."""
    prefix, _sep, key = entry.source_key.partition(":")
    kind, label, page = SOURCES.get(prefix, (_("其他"), "", ""))
    url = ""
    pk = whole_number(key)
    if page and pk is not None:
        try:
            url = reverse(page, args=[pk])
        except NoReverseMatch:  # the app of that record is not installed
            url = ""
    return str(kind), str(label), key if label and pk is not None else "", url


def signed_amount(fen: int) -> str:
    """ "+¥3.00" for a credit, "-¥12.34" for a debit."""
    amount = format_fen(fen)
    return f"+{amount}" if fen > 0 else amount


def described(entry: WalletEntry) -> dict:
    kind, label, _key, url = source_of(entry)
    return {
        "e": entry,
        "kind": kind,
        "amount": signed_amount(entry.amount),
        "credit": entry.amount > 0,
        "link_label": label,
        "url": url,
    }


def entries_url(customer) -> str:
    """The 商城余额流水 list opened on one buyer's entries."""
    return reverse("admin:customers_walletentry_changelist") + f"?user__id__exact={customer.pk}"


def wallet_panel(request, customer) -> dict | None:
    """The panel for staff who may read wallets (None for the others)."""
    if not request.user.has_perm(PERMISSION):
        return None
    totals = WalletEntry.objects.filter(user=customer).aggregate(balance=Sum("amount"), count=Count("pk"))
    entries = WalletEntry.objects.filter(user=customer).order_by("-id")[:ROWS]
    return {
        "balance": format_fen(totals["balance"] or 0),
        "count": totals["count"],
        "entries": [described(entry) for entry in entries],
        "all_url": entries_url(customer),
    }
