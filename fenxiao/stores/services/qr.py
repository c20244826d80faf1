"""Store QR codes and their printable posters (drawn like the share posters)."""

import io

from django.conf import settings
from PIL import Image, ImageDraw

from fenxiao.distribution.services.sharing import _drawable, _font, _wrap, qr_png

from ..models import Store, StoreStaff


def store_url(store: Store, staff: StoreStaff | None = None) -> str:
    path = f"/s/{store.code}/" + (f"{staff.code}/" if staff is not None else "")
    return f"{settings.SITE_URL}{path}"


def store_qr_png(store: Store, staff: StoreStaff | None = None) -> bytes:
    return qr_png(store_url(store, staff))


def poster_png(store: Store, staff: StoreStaff | None = None) -> bytes:
    """A 750×1200 poster to print and put on the counter: store, address, hours, the QR.
    The backend's 海报 and the staff member's own on /store/ are this one drawing.

    Every text is fitted to the page: a long store name takes two lines, the address up to
    two, each ending in … only past that; what the font cannot draw (emoji) is left out
    rather than printed as boxes (□)."""
    width, height, margin = 750, 1200, 50
    text_width = width - 2 * margin
    poster = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(poster)
    draw.rectangle([0, 0, width, 260], fill="#e4393c")
    name_font = _font(52)
    name = _wrap(draw, _drawable(store.name), name_font, text_width, 2)
    y = 70 if len(name) < 2 else 36
    for line in name:
        draw.text((margin, y), line, font=name_font, fill="#ffffff")
        y += 68
    draw.text((margin, y + 22), "扫码成为门店会员", font=_font(36), fill="#ffffff")
    body_font = _font(30)
    lines = _wrap(draw, _drawable(store.address_text), body_font, text_width, 2)
    for text in (store.hours and f"营业时间：{store.hours}", store.phone and f"电话：{store.phone}"):
        if text:
            lines += _wrap(draw, _drawable(text), body_font, text_width, 1)
    y = 296
    for line in lines:
        draw.text((margin, y), line, font=body_font, fill="#374151")
        y += 46
    code = (
        Image.open(io.BytesIO(qr_png(store_url(store, staff), box_size=10))).convert("RGB").resize((460, 460))
    )
    poster.paste(code, ((width - 460) // 2, 520))
    caption_font = _font(30)
    # The guide by nickname only: a poster hangs in public, so a guide without one is not
    # named by their (masked) phone.
    guide_name = _drawable(staff.user.nickname or "").strip() if staff is not None else ""
    if guide_name:
        caption = f"导购 {guide_name} 为您服务"
    elif staff is not None:
        caption = "专属导购为您服务 · 到店自提 · 会员专享"
    else:
        caption = "微信扫一扫 · 到店自提 · 会员专享"
    (caption,) = _wrap(draw, caption, caption_font, text_width, 1)
    draw.text(
        ((width - draw.textlength(caption, font=caption_font)) / 2, 1010),
        caption,
        font=caption_font,
        fill="#6b7280",
    )
    buffer = io.BytesIO()
    poster.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
