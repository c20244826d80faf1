"""Store QR codes and their printable posters (drawn like the share posters)."""

import io

from django.conf import settings
from PIL import Image, ImageDraw

from fenxiao.distribution.services.sharing import _font, qr_png

from ..models import Store, StoreStaff


def store_url(store: Store, staff: StoreStaff | None = None) -> str:
    path = f"/s/{store.code}/" + (f"{staff.code}/" if staff is not None else "")
    return f"{settings.SITE_URL}{path}"


def store_qr_png(store: Store, staff: StoreStaff | None = None) -> bytes:
    return qr_png(store_url(store, staff))


def poster_png(store: Store, staff: StoreStaff | None = None) -> bytes:
    """A 750×1200 poster to print and put on the counter: store, address, hours, the QR."""
    width, height = 750, 1200
    poster = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(poster)
    draw.rectangle([0, 0, width, 260], fill="#e4393c")
    draw.text((50, 70), store.name, font=_font(56), fill="#ffffff")
    draw.text((50, 160), "扫码成为门店会员", font=_font(36), fill="#ffffff")
    y = 300
    for text in (
        store.address_text,
        store.hours and f"营业时间：{store.hours}",
        store.phone and f"电话：{store.phone}",
    ):
        if text:
            draw.text((50, y), text[:24], font=_font(30), fill="#374151")
            y += 50
    code = (
        Image.open(io.BytesIO(qr_png(store_url(store, staff), box_size=10))).convert("RGB").resize((460, 460))
    )
    poster.paste(code, ((width - 460) // 2, 520))
    caption = (
        f"导购 {staff.user.display_name} 为您服务"
        if staff is not None
        else "微信扫一扫 · 到店自提 · 会员专享"
    )
    draw.text(
        ((width - draw.textlength(caption, font=_font(30))) / 2, 1010),
        caption,
        font=_font(30),
        fill="#6b7280",
    )
    buffer = io.BytesIO()
    poster.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
