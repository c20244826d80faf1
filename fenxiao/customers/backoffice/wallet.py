"""The 商城余额 (store credit) panel of the customer profile: the balance and the latest
entries of the buyer's wallet ledger, read-only, in two queries whatever the history.

Each entry says what it was by its `source_key` (`services.wallet` writes one per order paid,
cancelled or refunded, and per withdrawal to the wallet), so the panel links the record that
moved the money without reading it."""

from django.db.models import Count, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import format_fen

from ..models import WalletEntry

ROWS = 20
PERMISSION = "customers.view_walletentry"

# source_key prefix -> (kind, the linked record's label, its backend page)
SOURCES = {
    "order-pay": (gettext_lazy("余额支付"), gettext_lazy("订单"), "admin:orders_order_change"),
    "order-release": (gettext_lazy("取消退回"), gettext_lazy("订单"), "admin:orders_order_change"),
    "order-refund": (gettext_lazy("售后退款"), gettext_lazy("售后单"), "admin:orders_aftersale_change"),
    "withdrawal": (gettext_lazy("佣金提现"), gettext_lazy("提现单"), "admin:distribution_withdrawal_change"),
}


def _described(entry: WalletEntry) -> dict:
    prefix, _sep, key = entry.source_key.partition(":")
    kind, label, page = SOURCES.get(prefix, (_("其他"), "", ""))
    url = ""
    if page and key.isdigit():
        try:
            url = reverse(page, args=[int(key)])
        except NoReverseMatch:  # the app of that record is not installed
            url = ""
    amount = format_fen(entry.amount)
    return {
        "e": entry,
        "kind": kind,
        "amount": f"+{amount}" if entry.amount > 0 else amount,
        "credit": entry.amount > 0,
        "link_label": label,
        "url": url,
    }


def wallet_panel(request, customer) -> dict | None:
    """The panel for staff who may read wallets (None for the others)."""
    if not request.user.has_perm(PERMISSION):
        return None
    totals = WalletEntry.objects.filter(user=customer).aggregate(balance=Sum("amount"), count=Count("pk"))
    entries = WalletEntry.objects.filter(user=customer).order_by("-id")[:ROWS]
    return {
        "balance": format_fen(totals["balance"] or 0),
        "count": totals["count"],
        "entries": [_described(entry) for entry in entries],
    }
