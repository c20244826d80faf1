"""我的 → 商城余额: the balance and every entry that moved it (commission withdrawn to it,
refunds of what it paid, checkouts that used it), newest first, so a buyer can see where
their store credit came from and went."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from fenxiao.customers.services import wallet
from fenxiao.distribution.paging import page_before

from .common import int_or_none

PAGE_SIZE = 20


@login_required
def wallet_page(request):
    # Paged by key like 退款/售后: a page costs the same however many entries came before.
    before = int_or_none(request.GET.get("before"))
    rows, cursor = page_before(
        wallet.entries(request.user.pk), before if before and before > 0 else None, PAGE_SIZE
    )
    return render(
        request,
        "storefront/account/wallet.html",
        {
            "balance": wallet.balance(request.user.pk),
            "entries": rows,
            "next": cursor,
            "older": before is not None,
            "tab": "me",
        },
    )
