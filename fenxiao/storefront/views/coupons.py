"""领券中心, a coupon's own page (where a shared coupon opens), 我的优惠券 and claiming a
coupon (from the center, its page or a product page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from fenxiao.core.errors import DomainError
from fenxiao.distribution.services import distributors
from fenxiao.promotions.services import coupon_sharing, coupons, offers

from .cart import sign_in_first
from .common import safe_next

WALLET_TABS = [
    ("unused", pgettext_lazy("coupon", "未使用")),
    ("used", pgettext_lazy("coupon", "已使用")),
    ("expired", pgettext_lazy("coupon", "已过期")),
]


def _sharer(user):
    """The signed-in active distributor, who gets 分享 on every coupon."""
    distributor = distributors.for_user(user)
    return distributor if distributor is not None and distributor.is_active else None


def center(request):
    return render(
        request,
        "storefront/coupons/center.html",
        {
            "coupons": offers.claimable_coupons(request.user),
            "share_coupons": _sharer(request.user) is not None,
            "tab": "me",
        },
    )


def detail(request, coupon_id: int):
    coupon = offers.claimable_coupon(coupon_id, request.user)
    if coupon is None:
        # A shared coupon opened after it ran out or ended: say so, and where to look instead.
        return render(request, "storefront/coupons/detail.html", {"coupon": None, "tab": "me"}, status=404)
    sharer = _sharer(request.user)
    return render(
        request,
        "storefront/coupons/detail.html",
        {
            "coupon": coupon,
            "use_url": coupons.where_to_use([coupon])[coupon.pk],
            "share_coupons": sharer is not None,
            "share_card": lambda: coupon_sharing.coupon_card(sharer, coupon),
            "tab": "me",
        },
    )


@login_required
def mine(request):
    now = timezone.now()
    wallet = coupons.wallet(request.user, now)
    tab = request.GET.get("tab") if request.GET.get("tab") in wallet else "unused"
    if tab == "unused":
        # Held but not usable yet (starts later) or any more (the merchant stopped the coupon:
        # checkout refuses it): said on the copy instead of a 去使用 that ends in a refusal.
        urls = coupons.where_to_use({copy.coupon_id: copy.coupon for copy in wallet[tab]}.values())
        for copy in wallet[tab]:
            copy.stopped = not copy.coupon.is_active
            copy.not_started = copy.valid_from > now
            copy.use_url = urls[copy.coupon_id]
    return render(
        request,
        "storefront/coupons/mine.html",
        {
            "copies": wallet[tab],
            "current": tab,
            "tabs": [(key, label, len(wallet[key])) for key, label in WALLET_TABS],
            "tab": "me",
        },
    )


@require_POST
def claim(request, coupon_id: int):
    if not request.user.is_authenticated:
        return sign_in_first(request)
    try:
        copy = coupons.claim(request.user, coupon_id)
    except DomainError as error:
        if request.htmx:
            response = render(
                request, "storefront/partials/toast.html", {"message": error.message, "error": True}
            )
            response["HX-Reswap"] = "none"
            return response
        messages.error(request, error.message)
        return redirect(safe_next(request, "/coupons/"))
    if not request.htmx:
        messages.success(request, _("领取成功，已放入我的优惠券"))
        return redirect(safe_next(request, "/coupons/"))
    # The card comes back as it now stands for this buyer (再领一张, or 已领取).
    coupon = offers.claimable_coupon(copy.coupon_id, request.user)
    if coupon is None:  # that was the last copy: the coupon left the center
        coupon = copy.coupon
        coupon.claimed, coupon.can_claim = 1, False
    return render(
        request,
        "storefront/partials/coupon_claimed.html",
        {"coupon": coupon, "message": _("领取成功"), "share_coupons": _sharer(request.user) is not None},
    )
