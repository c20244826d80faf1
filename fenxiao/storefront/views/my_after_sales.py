"""我的 → 退款/售后: every after-sale the buyer has asked for, newest first, whatever its
order, so a refund in progress is found without remembering which order it was on."""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import render

from fenxiao.distribution.paging import page_before
from fenxiao.orders.models import AfterSale, AfterSaleLine

from .common import int_or_none

PAGE_SIZE = 20


@login_required
def after_sale_list(request):
    qs = AfterSale.objects.filter(order__buyer=request.user).select_related("order")
    # Each card shows its products: the lines with their order lines, one query per page.
    qs = qs.prefetch_related(
        Prefetch("lines", queryset=AfterSaleLine.objects.select_related("order_line").order_by("id"))
    )
    # Paged by key like 我的订单: a page costs the same however many after-sales came before.
    before = int_or_none(request.GET.get("before"))
    rows, cursor = page_before(qs, before if before and before > 0 else None, PAGE_SIZE)
    return render(
        request,
        "storefront/account/after_sales.html",
        {"after_sales": rows, "next": cursor, "older": before is not None, "tab": "me"},
    )
