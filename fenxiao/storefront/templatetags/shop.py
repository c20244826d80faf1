import logging
from urllib.parse import urlsplit

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from fenxiao.core.money import format_fen
from fenxiao.customers.services import wechat_mp
from fenxiao.orders.models import DiscountKind

register = template.Library()
logger = logging.getLogger(__name__)


@register.filter
def yuan(fen):
    """{{ 1234|yuan }} → ¥12.34"""
    try:
        return format_fen(int(fen))
    except (TypeError, ValueError):
        return "-"


@register.filter
def bp_percent(bp):
    """{{ 1500|bp_percent }} → 15%"""
    try:
        return f"{int(bp) / 100:g}%"
    except (TypeError, ValueError):
        return "-"


@register.filter
def minus(a, b):
    """{{ 500|minus:200 }} → 300 (integer fen)"""
    try:
        return int(a) - int(b)
    except (TypeError, ValueError):
        return 0


@register.filter
def discount_label(kind):
    """{{ "spend"|discount_label }} → 满减"""
    try:
        return DiscountKind(kind).label
    except ValueError:
        return _("优惠")


@register.filter
def off_text(bp):
    """A percent-off coupon the way Chinese shops print it: {{ 1500|off_text }} → 8.5折"""
    try:
        bp = int(bp)
    except (TypeError, ValueError):
        return "-"
    if (get_language() or "zh-hans").startswith("zh"):
        return f"{(10000 - bp) / 1000:g}折"
    # 折 counts what is paid (8.5折 = 15% off) and has no word-for-word English: other
    # languages read the share taken off.
    return f"{bp / 100:g}% off"


def _clock(seconds: int) -> str:
    """12345 → 03:25:45; a day or more → 2天 03:25:45."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return _("%(days)s天 %(clock)s") % {"days": days, "clock": text} if days else text


@register.simple_tag
def countdown(moment, prefix: str | None = None):
    """A countdown to `moment` that static/storefront/app.js ticks (epoch milliseconds) by
    the server's clock, which the page's body carries (`server_clock`), so a phone with a
    wrong clock still counts right, and a shop window rendered a few seconds before it was
    served (views/window.py) too; at zero the page reloads and the offer shows its next
    state (started, or ended). Templates pass the prefix translated: _("距开始")."""
    if prefix is None:
        prefix = _("距结束")
    return format_html(
        '<span class="countdown" data-countdown data-until="{}" data-prefix="{}">'
        "{} <b data-countdown-clock>{}</b></span>",
        int(moment.timestamp() * 1000),
        prefix,
        prefix,
        _clock((moment - timezone.now()).total_seconds()),
    )


@register.simple_tag
def server_clock() -> int:
    """The server's clock as the response leaves it (epoch milliseconds), for countdowns."""
    return int(timezone.now().timestamp() * 1000)


@register.simple_tag
def order_discounts(order) -> dict:
    """An order's discounts as the buyer reads them, one row per promotion or coupon with its
    amounts summed over the lines (OrderDiscount rows are kept per line): "price" (flash and
    group prices, already in the goods amount), "money" (满减, coupon, price adjustments,
    in the order's discount) and "shipping" (a waived fee); and "price_amount", what the
    flash and group prices took off in all (确认订单's 活动价优惠)."""
    groups = {"price": {}, "money": {}, "shipping": {}}
    for discount in order.discounts.all():
        if discount.kind in (DiscountKind.FLASH, DiscountKind.GROUP):
            part = "price"
        elif discount.kind == DiscountKind.FREE_SHIPPING:
            part = "shipping"
        else:
            part = "money"
        key = (discount.kind, discount.promotion_id, discount.coupon_id, discount.name)
        row = groups[part].setdefault(
            key, {"label": discount.get_kind_display(), "name": discount.name, "amount": 0}
        )
        row["amount"] += discount.amount
    found = {part: list(rows.values()) for part, rows in groups.items()}
    return {**found, "price_amount": sum(row["amount"] for row in found["price"])}


# Line icons (24×24, stroke = currentColor); inline so the tab bar needs no icon font.
ICONS = {
    "home": '<path d="M3 11l9-7 9 7"/><path d="M5 10v10h14V10"/><path d="M10 20v-6h4v6"/>',
    "grid": '<rect x="4" y="4" width="7" height="7" rx="1"/><rect x="13" y="4" width="7" '
    'height="7" rx="1"/><rect x="4" y="13" width="7" height="7" rx="1"/>'
    '<rect x="13" y="13" width="7" height="7" rx="1"/>',
    "cart": '<circle cx="9" cy="20" r="1.5"/><circle cx="18" cy="20" r="1.5"/>'
    '<path d="M2 3h3l2.5 12h12L22 7H6.2"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c1.5-4 4.5-6 8-6s6.5 2 8 6"/>',
    "wallet": '<rect x="3" y="6" width="18" height="14" rx="2"/><path d="M3 10h18"/>'
    '<circle cx="16.5" cy="15" r="1"/>',
    "box": '<path d="M3 7l9-4 9 4-9 4-9-4z"/><path d="M3 7v10l9 4 9-4V7"/><path d="M12 11v10"/>',
    "truck": '<rect x="2" y="6" width="12" height="10"/><path d="M14 9h4l4 4v3h-8"/>'
    '<circle cx="6" cy="18" r="2"/><circle cx="18" cy="18" r="2"/>',
    "store": '<path d="M4 10v10h16V10"/><path d="M3 10l2-6h14l2 6z"/><path d="M10 20v-5h4v5"/>',
    "check": '<circle cx="12" cy="12" r="9"/><path d="M8 12l3 3 5-6"/>',
    "money": '<circle cx="12" cy="12" r="9"/><path d="M8 8l4 5 4-5M8 13h8M12 13v5"/>',
    "team": '<circle cx="9" cy="8" r="3.5"/><circle cx="17" cy="9" r="2.5"/>'
    '<path d="M2 20c1-3.5 3.8-5.5 7-5.5s6 2 7 5.5"/><path d="M16 14.5c2.5 0 4.5 1.6 5.5 4.5"/>',
    "trophy": '<path d="M7 4h10v5a5 5 0 01-10 0V4z"/><path d="M7 6H4a3 3 0 003 4M17 6h3a3 3 0 01-3 4"/>'
    '<path d="M12 14v4M8 21h8"/>',
    # A return arrow: 退款/售后.
    "refund": '<path d="M4 12a8 8 0 1 0 2.6-5.9"/><path d="M4 4v4.5h4.5"/>',
    "share": '<circle cx="18" cy="5" r="2.5"/><circle cx="6" cy="12" r="2.5"/>'
    '<circle cx="18" cy="19" r="2.5"/><path d="M8.2 10.8l7.6-4.4M8.2 13.2l7.6 4.4"/>',
}


@register.simple_tag
def icon(name: str, size: int = 22):
    from django.utils.safestring import mark_safe

    return format_html(
        '<svg class="icon" width="{}" height="{}" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="1.7" stroke-linecap="round" '
        'stroke-linejoin="round" aria-hidden="true">{}</svg>',
        size,
        size,
        mark_safe(ICONS[name]),  # noqa: S308 - constant markup defined above
    )


def _jssdk(request) -> dict | None:
    """WeChat's JS-SDK and its signature for this page, in WeChat's browser only, on the
    site's own address (`SITE_URL`, the 公众号's JS接口安全域名); None elsewhere."""
    sdk = settings.WECHAT_MP.get("JSSDK_URL")
    if not (sdk and request) or "MicroMessenger" not in request.headers.get("User-Agent", ""):
        return None
    site = urlsplit(settings.SITE_URL)
    if request.get_host() != site.netloc or request.scheme != site.scheme:
        return None  # opened by another address: a signature for SITE_URL would not hold there
    # Signed as the browser holds the address: the path as sent, the query exactly as sent.
    query = request.META.get("QUERY_STRING", "")
    url = settings.SITE_URL + escape_uri_path(request.path) + (f"?{query}" if query else "")
    config = wechat_mp.jssdk_config(url)
    return None if config is None else {"config": config, "sdk": sdk}


@register.inclusion_tag("storefront/partials/wechat_share.html", takes_context=True)
def wechat_share(context):
    """The page's share card (`share_card` in its context, a callable so that pages seen
    outside WeChat never build one) and the JS-SDK signature that lets the page set it.
    A card can never break a page: whatever goes wrong, the page goes without one."""
    request = context.get("request")
    card = context.get("share_card")
    if not card:
        return {}
    try:
        jssdk = _jssdk(request)
        if jssdk is None:
            return {}
        return {"wx": {**jssdk, "card": card() if callable(card) else card}, "name": "wx-share"}
    except Exception:
        logger.exception("share card left out of %s", request.path)
        return {}


@register.inclusion_tag("storefront/partials/wechat_share.html", takes_context=True)
def wechat_transfer(context):
    """What 确认收款 needs on a page listing WeChat 商家转账 transfers awaiting the
    distributor's confirmation: the JS-SDK signature and the merchant's id."""
    request = context.get("request")
    try:
        jssdk = _jssdk(request)
    except Exception:
        logger.exception("WeChat JS-SDK left out of %s", request.path)
        return {}
    if jssdk is None:
        return {}
    return {"wx": {**jssdk, "mchId": settings.WECHATPAY.get("MCHID", "")}, "name": "wx-transfer"}
