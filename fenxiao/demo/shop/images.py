"""Product pictures drawn with Pillow: a soft gradient, a few bubbles and a simple outline of
the goods (a T-shirt, a phone, a cup…). No network and no fonts, so it works anywhere."""

import io
from random import Random

from PIL import Image, ImageDraw, ImageOps

SIZE = 800

# Gradient top, gradient bottom, and the colour of goods that come in no named colour.
PALETTES = {
    "coral": ((255, 241, 236), (244, 186, 170), (214, 92, 76)),
    "ocean": ((234, 243, 255), (158, 194, 238), (52, 98, 180)),
    "blossom": ((255, 242, 248), (238, 184, 210), (196, 82, 132)),
    "harvest": ((255, 249, 230), (244, 204, 138), (196, 116, 38)),
    "sage": ((239, 247, 237), (178, 212, 184), (70, 130, 90)),
}

# Colour words in spec values ("雾霾蓝", "午夜黑") and the shade drawn for them; first match wins.
SHADES = [
    ("黑", (48, 48, 54)),
    ("白", (246, 244, 238)),
    ("藏青", (36, 52, 96)),
    ("蓝", (92, 140, 210)),
    ("粉", (236, 150, 170)),
    ("绿", (96, 160, 118)),
    ("灰", (140, 144, 152)),
    ("橙", (240, 140, 60)),
    ("卡其", (190, 160, 110)),
    ("杏", (236, 200, 160)),
    ("燕麦", (222, 204, 176)),
    ("米", (236, 226, 204)),
]


def shade_for(value: str) -> tuple[int, int, int] | None:
    return next((rgb for word, rgb in SHADES if word in value), None)


def render(motif: str, palette: str, colour: tuple[int, int, int] | None, rng: Random) -> bytes:
    """An 800×800 JPEG of `motif` in `colour` (or the palette's accent)."""
    top, bottom, accent = PALETTES[palette]
    # Tilt the 256-pixel gradient and keep its middle, so no corner is left unfilled.
    gradient = (
        Image.linear_gradient("L")
        .rotate(rng.choice([0, 25, -25]), Image.BICUBIC)
        .crop((64, 64, 192, 192))
        .resize((SIZE, SIZE), Image.BICUBIC)
    )
    image = ImageOps.colorize(ImageOps.autocontrast(gradient), top, bottom)
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(rng.randint(4, 7)):
        r, x, y = rng.randint(30, 150), rng.randint(0, SIZE), rng.randint(0, SIZE)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, rng.randint(50, 110)))
    draw.ellipse((210, 630, 590, 690), fill=(0, 0, 0, 36))
    fill = colour or accent
    MOTIFS[motif](draw, fill, tuple(int(c * 0.62) for c in fill))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=86, optimize=True)
    return buffer.getvalue()


def _tshirt(draw, fill, line):
    draw.polygon(
        [
            (330, 170),
            (370, 205),
            (430, 205),
            (470, 170),
            (585, 205),
            (665, 315),
            (580, 365),
            (545, 325),
            (545, 640),
            (255, 640),
            (255, 325),
            (220, 365),
            (135, 315),
            (215, 205),
        ],
        fill=fill,
        outline=line,
        width=6,
    )


def _dress(draw, fill, line):
    draw.polygon(
        [
            (345, 160),
            (370, 160),
            (400, 215),
            (430, 160),
            (455, 160),
            (470, 330),
            (610, 640),
            (190, 640),
            (330, 330),
        ],
        fill=fill,
        outline=line,
        width=6,
    )
    draw.rectangle((328, 318, 472, 344), fill=line)


def _phone(draw, fill, line):
    draw.rounded_rectangle((285, 150, 515, 650), radius=42, fill=fill, outline=line, width=6)
    draw.rounded_rectangle((308, 196, 492, 604), radius=14, fill=(255, 255, 255, 90))
    draw.ellipse((388, 166, 412, 186), fill=line)


def _headphones(draw, fill, line):
    draw.arc((225, 170, 575, 520), 180, 360, fill=line, width=36)
    for left in (195, 505):
        draw.rounded_rectangle((left, 340, left + 100, 560), radius=40, fill=fill, outline=line, width=6)


def _bottle(draw, fill, line):
    draw.rectangle((362, 228, 438, 300), fill=fill, outline=line, width=6)
    draw.rounded_rectangle((342, 160, 458, 240), radius=14, fill=line)
    draw.rounded_rectangle((295, 290, 505, 650), radius=56, fill=fill, outline=line, width=6)
    draw.rounded_rectangle((325, 420, 475, 540), radius=10, fill=(255, 255, 255, 150))


def _bag(draw, fill, line):
    teeth = range(265, 536, 27)
    top = [(x, 190 if i % 2 else 210) for i, x in enumerate(teeth)]
    bottom = [(x, 650 if i % 2 else 630) for i, x in enumerate(reversed(teeth))]
    draw.polygon(top + bottom, fill=fill, outline=line, width=6)
    draw.ellipse((315, 340, 485, 500), fill=(255, 255, 255, 150))


def _cup(draw, fill, line):
    draw.ellipse((470, 380, 610, 540), outline=line, width=24)
    draw.polygon([(260, 330), (540, 330), (505, 630), (295, 630)], fill=fill, outline=line, width=6)
    for x in (340, 400, 460):
        draw.arc((x - 22, 190, x + 22, 300), 100, 260, fill=(255, 255, 255, 200), width=10)


def _box(draw, fill, line):
    draw.rectangle((225, 330, 575, 635), fill=fill, outline=line, width=6)
    draw.rectangle((200, 285, 600, 345), fill=fill, outline=line, width=6)
    draw.rounded_rectangle((345, 420, 455, 452), radius=14, fill=line)


MOTIFS = {
    "tshirt": _tshirt,
    "dress": _dress,
    "phone": _phone,
    "headphones": _headphones,
    "bottle": _bottle,
    "bag": _bag,
    "cup": _cup,
    "box": _box,
}
