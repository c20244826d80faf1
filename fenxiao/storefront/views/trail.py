"""我的足迹: the products the buyer looked at, grouped by day."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fenxiao.analytics.services import tracking_trail
from fenxiao.core.pagination import page_number

from .shop import with_flash

PAGE_SIZE = 40


@login_required
def trail_page(request):
    page = page_number(request.GET.get("page"))
    today = timezone.localdate()
    views = list(tracking_trail.entries(request.user)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    # Priced as the product list prices them (a running flash price), one query a page.
    with_flash([view.product for view in views[:PAGE_SIZE]])
    return render(
        request,
        "storefront/account/trail.html",
        {
            "days": tracking_trail.by_day(views[:PAGE_SIZE]),
            "page": page,
            "has_more": len(views) > PAGE_SIZE,
            "today": today,
            "yesterday": today - timedelta(days=1),
            "tab": "me",
        },
    )


@login_required
@require_POST
def clear(request):
    tracking_trail.clear(request.user)
    messages.success(request, _("足迹已清空"))
    return redirect("/me/trail/")
