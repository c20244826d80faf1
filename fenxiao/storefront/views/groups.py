"""The group-buy (拼团) page: what the group sells, who is in, how long is left, and the
buttons to join it or share it. Opened from a shared link, so it needs no sign-in."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.catalog.models import ProductImage
from fenxiao.core.money import format_fen
from fenxiao.distribution.services import distributors, sharing
from fenxiao.promotions import errors
from fenxiao.promotions.services import groups


def group_page(request, group_id: int):
    now = timezone.now()
    try:
        view = groups.group_view(group_id, now)
    except errors.GroupNotFound:
        raise Http404(_("拼团不存在")) from None
    group = view.group
    product = group.item.product
    path = f"/groups/{group.pk}/"
    # A distributor shares their referral link, so the binding rules apply to whoever opens it.
    distributor = distributors.for_user(request.user)
    if distributor is not None and distributor.is_active:
        share_url = sharing.referral_url(distributor, path)
    else:
        share_url = f"{settings.SITE_URL}{path}"
    mine = next(
        (m for m in view.members if request.user.is_authenticated and m.buyer_id == request.user.pk), None
    )
    image = ProductImage.objects.filter(product=product).order_by("sort_order", "id").first()
    promotion = group.promotion
    return render(
        request,
        "storefront/groups/detail.html",
        {
            "view": view,
            "group": group,
            "promotion": promotion,
            "product": product,
            "image": image,
            "mine": mine,
            "share_url": share_url,
            "share_text": (
                f"【{format_fen(view.group_price)} 拼{product.name}】"
                f"还差{view.seats_left}人成团，快来和我一起拼：{share_url}"
            ),
            "share_card": lambda: sharing.share_card(
                title=(f"还差{view.seats_left}人成团｜" if view.seats_left else "")
                + f"{format_fen(view.group_price)} 拼{product.name}",
                desc=f"拼团价 {format_fen(view.group_price)}"
                + ("，快来和我一起拼" if view.seats_left else ""),
                link=share_url,
                image_url=image.image.url if image is not None else "",
            ),
            "seconds_left": max(int((group.deadline - now).total_seconds()), 0),
            "join_url": f"/checkout/?sku={view.sku.pk}&qty=1&join={group.pk}" if view.sku else "",
            "open_url": f"/checkout/?sku={view.sku.pk}&qty=1&group={promotion.pk}" if view.can_open else "",
            "empty_seats": range(view.empty_seats),
        },
    )


@login_required
def my_groups(request):
    return render(
        request,
        "storefront/groups/mine.html",
        {"seats": groups.buyer_groups(request.user), "now": timezone.now(), "tab": "me"},
    )
