"""分享赚钱: a distributor shares the shop, a product or a coupon — referral link, QR code,
poster, 小程序码 and share text."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.catalog.models import Product
from fenxiao.core.errors import DomainError
from fenxiao.customers.services import wechat_miniprogram
from fenxiao.distribution.models import TouchSource
from fenxiao.distribution.services import miniprogram_code, sharing
from fenxiao.promotions.services import coupon_sharing, offers

from .common import int_or_none
from .distribution import _active


def _share_path(request) -> str:
    path = request.GET.get("path") or "/"
    return path if path.startswith("/") and not path.startswith("//") else "/"


@login_required
def share(request):
    distributor = _active(request)
    if distributor is None:
        return redirect("/d/")
    coupon_id = int_or_none(request.GET.get("coupon"))
    if coupon_id:
        return _share_coupon(request, distributor, coupon_id)
    path = _share_path(request)
    product_id = int_or_none(request.GET.get("product"))
    product = get_object_or_404(Product, pk=product_id, is_listed=True) if product_id else None
    price, was, earn = None, None, None
    if product is not None:
        path = f"/products/{product.pk}/"
        # During a flash sale, its price and its own commission, as on the product page.
        flash = offers.selling_flash(product)
        price = flash.price if flash else product.price
        was = flash.regular if flash else None
        earn = sharing.estimate_level1(
            distributor,
            product,
            price=flash.price if flash else None,
            override=flash.promotion.commission_snapshot() if flash else None,
        )
    url = sharing.referral_url(distributor, path)
    return render(
        request,
        "storefront/distribution/share.html",
        {
            "distributor": distributor,
            "product": product,
            "url": url,
            "path": path,
            "price": price,
            "text": sharing.share_text(distributor, product, url, price, was)
            if product
            else f"{sharing.card_name(distributor) or '好友'} 邀请你逛逛好店：{url}",
            "earn": earn,
            # Only a shop with a mini-program has 小程序码 to offer.
            "miniprogram": wechat_miniprogram.configured(),
            # In WeChat, 发送给朋友 from this page sends the card of what is being shared.
            "share_card": (
                lambda: sharing.product_card(
                    distributor, product, price=price, image=product.images.first(), was=was
                )
            )
            if product
            else (lambda: sharing.shop_card(distributor, path)),
        },
    )


def _share_coupon(request, distributor, coupon_id: int):
    """A coupon of the coupon center, shared: whoever opens it is a touch of source 优惠券."""
    coupon = offers.claimable_coupon(coupon_id)
    if coupon is None:
        raise Http404(_("优惠券已领完或已结束"))
    url = coupon_sharing.coupon_url(distributor, coupon)
    return render(
        request,
        "storefront/distribution/share.html",
        {
            "distributor": distributor,
            "coupon": coupon,
            "url": url,
            "path": coupon_sharing.coupon_path(coupon),
            "text": coupon_sharing.coupon_text(distributor, coupon, url),
            "share_card": lambda: coupon_sharing.coupon_card(distributor, coupon),
        },
    )


@login_required
def qr_image(request):
    distributor = _active(request)
    if distributor is None:
        raise Http404
    # The QR code of a shared coupon refers as the coupon does.
    source = TouchSource.COUPON if request.GET.get("src") == TouchSource.COUPON else TouchSource.QR
    url = sharing.referral_url(distributor, _share_path(request), source=source)
    response = HttpResponse(sharing.qr_png(url), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def miniprogram_code_image(request):
    """The distributor's 小程序码 for the shop or `?product=`: WeChat draws it (and the
    shared cache keeps it); when it cannot, the page's image says so rather than breaking."""
    distributor = _active(request)
    if distributor is None:
        raise Http404
    try:
        drawn = miniprogram_code.image(distributor, int_or_none(request.GET.get("product")))
    except DomainError as refused:
        return HttpResponse(refused.message, status=refused.status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(drawn, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
def poster_image(request, product_id: int):
    distributor = _active(request)
    if distributor is None:
        raise Http404
    product = get_object_or_404(Product, pk=product_id, is_listed=True)
    url = sharing.referral_url(distributor, f"/products/{product.pk}/", source="poster")
    flash = offers.selling_flash(product)
    response = HttpResponse(
        sharing.poster_png(
            product,
            distributor,
            url,
            price=flash.price if flash else None,
            was=flash.regular if flash else None,
        ),
        content_type="image/png",
    )
    response["Content-Disposition"] = f'inline; filename="poster-{product.pk}.png"'
    # A flash sale's poster is kept no longer than the sale's price holds.
    seconds = 600 if flash is None else int((flash.promotion.closes_at - timezone.now()).total_seconds())
    response["Cache-Control"] = f"private, max-age={max(min(seconds, 600), 0)}"
    return response
