"""A distributor shares a coupon: its page opens through their referral link, as a touch of
source 优惠券 that the binding rules decide like any other, with its own share text and
WeChat share card."""

from django.conf import settings
from django.utils.translation import gettext as _

from fenxiao.distribution.models import Distributor, TouchSource
from fenxiao.distribution.services.sharing import card_name, referral_url, share_card

from ..models import Coupon
from .coupons import summary


def coupon_path(coupon: Coupon) -> str:
    return f"/coupons/{coupon.pk}/"


def coupon_url(distributor: Distributor | None, coupon: Coupon) -> str:
    """Where a shared coupon opens: its page, through the distributor's referral link when a
    distributor shares it."""
    if distributor is None:
        return f"{settings.SITE_URL}{coupon_path(coupon)}"
    return referral_url(distributor, coupon_path(coupon), source=TouchSource.COUPON)


def coupon_text(distributor: Distributor, coupon: Coupon, url: str) -> str:
    """The text to paste into a chat: it may reach strangers, so the distributor is named by
    their nickname only."""
    name = card_name(distributor)
    values = {"name": name, "coupon": coupon.name, "summary": summary(coupon), "url": url}
    if name:
        return _("%(name)s 送你一张优惠券【%(coupon)s】%(summary)s，点击领取：%(url)s") % values
    return _("送你一张优惠券【%(coupon)s】%(summary)s，点击领取：%(url)s") % values


def coupon_card(distributor: Distributor | None, coupon: Coupon) -> dict[str, str]:
    """The share card of a coupon's page."""
    values = {"coupon": coupon.name, "scope": coupon.get_scope_display()}
    if name := card_name(distributor):
        desc = _("%(name)s 送你的【%(coupon)s】%(scope)s，先领券再下单更划算") % {**values, "name": name}
    else:
        desc = _("【%(coupon)s】%(scope)s，先领券再下单更划算") % values
    return share_card(
        title=_("送你一张优惠券：%(summary)s") % {"summary": summary(coupon)},
        desc=desc,
        link=coupon_url(distributor, coupon),
    )
