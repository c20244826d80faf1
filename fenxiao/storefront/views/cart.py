"""The cart page and its htmx actions."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from fenxiao.core.errors import DomainError
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


def _ticked(request, lines) -> set[int]:
    """Lines the buyer has ticked. A fresh page ticks every line that can be bought; an
    htmx action on the cart posts the form, so the ticks survive the re-render."""
    if request.method == "POST" and request.POST.get("selection"):
        chosen = {int_or_none(v) for v in request.POST.getlist("line")}
        return {line.pk for line in lines if line.pk in chosen and line.available}
    return {line.pk for line in lines if line.available}


@login_required
def cart_page(request):
    lines = _lines(request.user)
    ticked = _ticked(request, lines)
    for line in lines:
        line.ticked = line.pk in ticked
    total = sum(line.subtotal for line in lines if line.ticked)
    template = "storefront/partials/cart_body.html" if request.htmx else "storefront/cart.html"
    return render(
        request,
        template,
        {"lines": lines, "total": total, "ticked": ",".join(map(str, sorted(ticked))), "tab": "cart"},
    )


def _page_to_come_back_to(request) -> str:
    """The product page the buyer pressed 加入购物车 on, as a path of this site (else home)."""
    candidates = [request.htmx.current_url if request.htmx else None, request.META.get("HTTP_REFERER")]
    for url in candidates:
        if url and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith("/") and not path.startswith("/cart/add"):
                return path
    return "/"


def _sign_in_first(request):
    """Adding to the cart needs an account: send the buyer to sign in, then back to the
    product. An htmx request would follow a plain redirect silently and swap nothing, so
    it gets HX-Redirect, which htmx turns into a full page navigation."""
    login = redirect_to_login(_page_to_come_back_to(request))
    if request.htmx:
        return HttpResponseClientRedirect(login["Location"])
    messages.info(request, "请先登录")
    return login


@require_POST
def add(request):
    if not request.user.is_authenticated:
        return _sign_in_first(request)
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
        return redirect(_page_to_come_back_to(request))
    if request.htmx:
        return render(request, "storefront/partials/toast.html", {"message": "已加入购物车"})
    messages.success(request, "已加入购物车")
    return redirect("/cart/")


@require_POST
def update(request, line_id: int):
    if not request.user.is_authenticated:  # signed out meanwhile: sign in, back to the cart
        return _sign_in_first(request)
    try:
        if request.POST.get("remove"):
            cart.remove_lines(request.user, [line_id])
        else:
            cart.set_quantity(request.user, line_id, int_or_none(request.POST.get("quantity")) or 0)
    except DomainError as error:
        messages.error(request, error.message)
    return cart_page(request) if request.htmx else redirect("/cart/")
