"""The cart page and its htmx actions."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fenxiao.core.errors import DomainError
from fenxiao.core.http import is_site_path
from fenxiao.orders.models import CartLine
from fenxiao.orders.services import cart

from .common import int_or_none


def _lines(user):
    lines = list(
        CartLine.objects.filter(cart__buyer=user)
        .select_related("sku__product")
        .prefetch_related("sku__product__images")
    )
    for line in lines:
        sku = line.sku
        line.available = sku.is_active and sku.product.is_listed and sku.stock >= line.quantity
        line.subtotal = sku.price * line.quantity
        images = list(sku.product.images.all())
        line.cover = images[0] if images else None
    return lines


def _back(request) -> str:
    """The page the buyer came from when it is on this site, else the cart."""
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    if referer.netloc == request.get_host() and is_site_path(path):
        return path
    return "/cart/"


@login_required
def cart_page(request):
    lines = _lines(request.user)
    total = sum(line.subtotal for line in lines if line.available)
    template = "storefront/partials/cart_body.html" if request.htmx else "storefront/cart.html"
    return render(request, template, {"lines": lines, "total": total, "tab": "cart"})


@login_required
@require_POST
def add(request):
    sku_id = int_or_none(request.POST.get("sku"))
    quantity = int_or_none(request.POST.get("qty")) or 1
    try:
        cart.add_to_cart(request.user, sku_id or 0, quantity)
    except DomainError as error:
        if request.htmx:
            return render(
                request,
                "storefront/partials/toast.html",
                {"message": error.message, "error": True},
                status=200,
            )
        messages.error(request, error.message)
        return redirect(_back(request))
    if request.htmx:
        return render(request, "storefront/partials/toast.html", {"message": "已加入购物车"})
    messages.success(request, "已加入购物车")
    return redirect("/cart/")


@login_required
@require_POST
def update(request, line_id: int):
    try:
        if request.POST.get("remove"):
            cart.remove_lines(request.user, [line_id])
        else:
            cart.set_quantity(request.user, line_id, int_or_none(request.POST.get("quantity")) or 0)
    except DomainError as error:
        messages.error(request, error.message)
    return cart_page(request) if request.htmx else redirect("/cart/")
