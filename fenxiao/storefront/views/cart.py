"""The cart page and its htmx actions."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from fenxiao.catalog.models import Sku
from fenxiao.core import traffic
from fenxiao.core.errors import DomainError
from fenxiao.orders.models import CartLine
from fenxiao.orders.services import cart, checkout
from fenxiao.orders.services.promotions_port import Choice

from .common import int_or_none, quantity_posted


def _lines(user):
    lines = list(
        CartLine.objects.filter(cart__buyer=user)
        .select_related("sku__product")
        .prefetch_related(
            "sku__product__images",
            # The specs a line can switch to (选规格).
            Prefetch("sku__product__skus", queryset=Sku.objects.filter(is_active=True), to_attr="choices"),
        )
    )
    for line in lines:
        sku = line.sku
        line.available = sku.is_active and sku.product.is_listed and sku.stock >= line.quantity
        line.unit_price = sku.price
        line.subtotal = sku.price * line.quantity
        line.cover = sku.picture
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
    quote, problem = _promotions(request.user, [line for line in lines if line.ticked])
    total = (
        quote.goods_amount - quote.discount_amount
        if quote
        else sum(line.subtotal for line in lines if line.ticked)
    )
    template = "storefront/partials/cart_body.html" if request.htmx else "storefront/cart.html"
    return render(
        request,
        template,
        {
            "lines": lines,
            "total": total,
            "quote": quote,
            "problem": problem,
            "ticked": ",".join(map(str, sorted(ticked))),
            "tab": "cart",
        },
    )


def _promotions(buyer, ticked) -> tuple:
    """Price the ticked lines as checkout will (flash prices, 满减 and its "再买 ¥N 可减 ¥M"
    hints; the coupon is chosen at checkout). Each line gets its promotion price. A basket
    checkout would refuse (a flash sale sold out, a limit passed) keeps catalog prices here
    and says why; checkout refuses it with the same message."""
    if not ticked:
        return None, ""
    try:
        quote = checkout.quote(
            [(line.sku_id, line.quantity) for line in ticked], buyer=buyer, choice=Choice(coupon=None)
        )
    except DomainError as error:
        return None, error.message
    priced = {quoted.sku.pk: quoted for quoted in quote.lines}
    for line in ticked:
        quoted = priced.get(line.sku_id)
        if quoted is not None:
            line.unit_price, line.subtotal = quoted.unit_price, quoted.subtotal
    return quote, ""


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


def sign_in_first(request):
    """Adding to the cart needs an account: send the buyer to sign in, then back to the
    product. An htmx request would follow a plain redirect silently and swap nothing, so
    it gets HX-Redirect, which htmx turns into a full page navigation."""
    login = redirect_to_login(_page_to_come_back_to(request))
    if request.htmx:
        return HttpResponseClientRedirect(login["Location"])
    messages.info(request, _("请先登录"))
    return login


@require_POST
def add(request):
    if not request.user.is_authenticated:
        return sign_in_first(request)
    sku_id = int_or_none(request.POST.get("sku"))
    quantity = quantity_posted(request)
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
    traffic.note_cart_add(request)
    if request.htmx:
        return render(request, "storefront/partials/toast.html", {"message": _("已加入购物车")})
    messages.success(request, _("已加入购物车"))
    return redirect("/cart/")


@require_POST
def update(request, line_id: int):
    if not request.user.is_authenticated:  # signed out meanwhile: sign in, back to the cart
        return sign_in_first(request)
    try:
        if request.POST.get("remove"):
            cart.remove_lines(request.user, [line_id])
        elif request.POST.get("sku"):
            cart.change_sku(request.user, line_id, int_or_none(request.POST.get("sku")) or 0)
        else:
            cart.set_quantity(request.user, line_id, int_or_none(request.POST.get("quantity")) or 0)
    except DomainError as error:
        messages.error(request, error.message)
    return cart_page(request) if request.htmx else redirect("/cart/")
