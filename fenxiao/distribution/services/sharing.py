"""Sharing: referral links, QR codes, share posters and the "share & earn ¥X" estimate."""

import io
import unicodedata
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import qrcode
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont, ImageOps

from fenxiao.core.money import apply_bp, format_fen

from ..models import Distributor, RuleKind
from . import config, store_rules
from .commissions import tier_bonus_bp
from .rules import RuleBook

SHOP_CARD_TITLE = "分销商城"
SHOP_CARD_DESC = "精选好物，限时特惠，好友推荐更优惠"
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
]


def referral_url(distributor: Distributor, path: str = "/", source: str = "link") -> str:
    query = {"to": path}
    if source != "link":
        query["src"] = source
    return f"{settings.SITE_URL}/r/{distributor.referral_code}?{urlencode(query)}"


def share_text(
    distributor: Distributor, product, url: str, price: int | None = None, was: int | None = None
) -> str:
    """The text to paste into a chat: it may reach strangers, so the distributor is named by
    their nickname only."""
    price = product.price if price is None else price
    was = was_price(product, price, was)
    name = card_name(distributor)
    return (
        f"【{product.name}】仅需 {format_fen(price)}"
        + (f"（原价 {format_fen(was)}）" if was else "")
        + (f"，{name} 推荐给你" if name else "")
        + f"，点击购买：{url}"
    )


def was_price(product, price: int, was: int | None = None) -> int:
    """The price a share shows struck through beside `price` (0 for none): `was` when a
    flash sale gives it (the regular price of the SKU on sale, as the product page strikes),
    else the product's list price, else its own price when `price` is below it."""
    if was is not None:
        return was if was > price else 0
    if product.list_price > price:
        return product.list_price
    return product.price if product.price > price else 0


def absolute_url(url: str) -> str:
    """`url` as a page outside the mall can load it: media the mall serves itself get its site."""
    return f"{settings.SITE_URL}{url}" if url.startswith("/") and not url.startswith("//") else url


def share_card(
    *, title: str, desc: str, link: str, image_url: str = "", timeline_title: str = ""
) -> dict[str, str]:
    """What WeChat shows for a shared page: the card sent to a friend or a group (the fields
    of the JS-SDK's updateAppMessageShareData) and, in 朋友圈, which shows no description,
    `timeline_title`. A tap on either opens `link`."""
    return {
        "title": title,
        "desc": desc,
        "link": link,
        "imgUrl": absolute_url(image_url) if image_url else "",
        "timelineTitle": timeline_title or title,
    }


def product_card(
    distributor: Distributor | None, product, *, price: int, image=None, was: int | None = None
) -> dict[str, str]:
    """The share card of a product page at `price` (a running flash sale's, or its own). An
    active distributor's card opens their referral link, so whoever taps it is bound as
    from any shared link."""
    path = f"/products/{product.pk}/"
    was = was_price(product, price, was)
    desc = f"仅需 {format_fen(price)}" + (f"（原价 {format_fen(was)}）" if was else "")
    if product.subtitle:
        desc += f"，{product.subtitle}"
    if name := card_name(distributor):
        desc = f"{name} 推荐：{desc}"
    return share_card(
        title=product.name,
        desc=desc,
        link=referral_url(distributor, path) if distributor is not None else f"{settings.SITE_URL}{path}",
        image_url=image.image.url if image is not None else "",
        timeline_title=f"{product.name}｜仅需 {format_fen(price)}",
    )


def shop_card(distributor: Distributor | None, path: str = "/") -> dict[str, str]:
    """The share card of the shop (its home page, or another page of it at `path`); an active
    distributor's opens their referral link."""
    name = card_name(distributor)
    return share_card(
        title=SHOP_CARD_TITLE,
        desc=f"{name} 邀请你逛逛：{SHOP_CARD_DESC}" if name else SHOP_CARD_DESC,
        link=referral_url(distributor, path) if distributor is not None else f"{settings.SITE_URL}{path}",
    )


def card_name(distributor: Distributor | None) -> str:
    """Who recommends, on a card that may reach strangers: the distributor's nickname, never
    their (masked) phone number; "" without one."""
    return distributor.user.nickname if distributor is not None else ""


def estimate_level1(distributor: Distributor, product, *, price: int | None = None, override=None) -> int:
    """What the distributor earns on one unit of the product's cheapest SKU, at level 1.
    A running promotion's `price` and its commission snapshot (`override`, as an order line
    would carry it) make it the promotion's figure, as a buyer arriving now would pay."""
    sku = product.skus.filter(is_active=True).order_by("price").first()
    if sku is None or not distributor.is_active:
        return 0
    paid = price if price is not None else sku.price
    line = SimpleNamespace(
        sku_id=sku.pk, product_id=product.pk, quantity=1, paid_amount=paid, commission_override=override
    )
    cfg = config.current()
    resolved = RuleBook([line], cfg).resolve(line, 1, distributor.grade)
    resolved = store_rules.apply(resolved, store_rules.level1_rates([distributor.pk]).get(distributor.pk))
    if resolved.excluded:
        return 0
    bonus = tier_bonus_bp(distributor.pk)
    if resolved.kind == RuleKind.FIXED:
        amount = resolved.value + apply_bp(paid, bonus)
    else:
        amount = apply_bp(paid, resolved.value + bonus)
    return min(amount, apply_bp(paid, cfg.max_commission_bp))


def qr_png(url: str, box_size: int = 8) -> bytes:
    image = qrcode.make(url, box_size=box_size, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=4)
def _font_path() -> str | None:
    configured = getattr(settings, "POSTER_FONT_PATH", "")
    for candidate in [configured, *FONT_CANDIDATES]:
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _font(size: int):
    path = _font_path()
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


# A character no font has a glyph for (a noncharacter of the last private plane): what the
# font draws for it is its "missing glyph" box.
_MISSING = "\U0010fffd"


@lru_cache(maxsize=4096)
def _has_glyph(path: str, char: str) -> bool:
    """Whether the font at `path` draws `char` itself rather than its missing-glyph box
    (□): drawn alone, the two differ. The answer is a fact about the font file."""
    font = ImageFont.truetype(path, 32)
    mask, missing = font.getmask(char), font.getmask(_MISSING)
    return (mask.size, bytes(mask)) != (missing.size, bytes(missing))


def _drawable(text: str) -> str:
    """`text` without what the poster font cannot draw — emoji in a nickname or a product
    name, rare characters — so it reads cleanly instead of with boxes (□); the spaces and
    invisible joiners (ZWJ, variation selectors) left around them go too. Pillow's built-in
    font (no Chinese font installed) draws no Chinese at all: the text is kept as it is."""
    path = _font_path()
    if not path:
        return text
    kept = "".join(char for char in text if char.isspace() or (not _joiner(char) and _has_glyph(path, char)))
    return " ".join(kept.split())


def _joiner(char: str) -> bool:
    """Zero-width joiners, tags and variation selectors: they only shape an emoji."""
    code = ord(char)
    return unicodedata.category(char) == "Cf" or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _wrap(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    lines, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=font) > width:
            lines.append(current)
            current = char
            if len(lines) == max_lines:
                lines[-1] = lines[-1][:-1] + "…"
                return lines
        else:
            current += char
    if current:
        lines.append(current)
    return lines[:max_lines]


def poster_png(
    product, distributor: Distributor, url: str, price: int | None = None, was: int | None = None
) -> bytes:
    """A 750×1200 share poster: product image, name, price (a running flash sale's `price`,
    the regular one struck through), the distributor and the QR code."""
    price = product.price if price is None else price
    struck = was_price(product, price, was)
    width, height = 750, 1200
    poster = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(poster)
    cover = product.images.order_by("sort_order", "id").first()
    if cover is not None:
        try:
            with cover.image.open("rb") as handle:
                picture = ImageOps.fit(Image.open(handle).convert("RGB"), (width, width))
                poster.paste(picture, (0, 0))
        except (OSError, ValueError):
            draw.rectangle([0, 0, width, width], fill="#f4f4f5")
    else:
        draw.rectangle([0, 0, width, width], fill="#f4f4f5")
    y = width + 30
    for line in _wrap(draw, _drawable(product.name), _font(40), width - 80, 2):
        draw.text((40, y), line, font=_font(40), fill="#1f2937")
        y += 54
    draw.text((40, y + 10), format_fen(price), font=_font(56), fill="#e4393c")
    if struck > price:
        price_width = draw.textlength(format_fen(price), font=_font(56))
        list_text = format_fen(struck)
        x = 40 + price_width + 24
        draw.text((x, y + 30), list_text, font=_font(30), fill="#9ca3af")
        strike = y + 48
        draw.line(
            [x, strike, x + draw.textlength(list_text, font=_font(30)), strike], fill="#9ca3af", width=2
        )
    code = Image.open(io.BytesIO(qr_png(url, box_size=6))).convert("RGB")
    code = code.resize((220, 220))
    poster.paste(code, (width - 260, height - 260))
    draw.text(
        (40, height - 220),
        f"{_drawable(card_name(distributor)) or '好友'} 为你推荐",
        font=_font(32),
        fill="#374151",
    )
    draw.text((40, height - 170), "长按识别二维码购买", font=_font(28), fill="#6b7280")
    buffer = io.BytesIO()
    poster.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
