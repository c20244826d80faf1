"""The counter poster fits whatever the merchant typed: a long store name wraps to a second
line inside the page, a long address keeps its second line (the room number is in it), and
an emoji in the store's or the guide's name is left out instead of printed as a box (□)."""

import io

import pytest
from PIL import Image, ImageChops

from fenxiao.distribution.services import sharing
from fenxiao.stores.services import qr
from fenxiao.stores.testing import make_store

from .helpers import guide

pytestmark = pytest.mark.django_db

HEADER_RED = (228, 57, 60)


@pytest.fixture(autouse=True)
def chinese_font():
    if sharing._font_path() is None:
        pytest.skip("no Chinese font installed (make fonts)")


def poster(store, staff=None) -> Image.Image:
    return Image.open(io.BytesIO(qr.poster_png(store, staff))).convert("RGB")


def inked(image: Image.Image, box, background) -> int:
    """Pixels inside `box` that differ from the plain `background`."""
    region = image.crop(box)
    # A pixel that differs in any channel is non-zero in the channels' sum.
    differs = ImageChops.difference(region, Image.new("RGB", region.size, background))
    red, green, blue = differs.split()
    histogram = ImageChops.add(ImageChops.add(red, green), blue).histogram()
    return region.width * region.height - histogram[0]


def test_a_long_name_wraps_inside_the_page_and_the_address_keeps_its_room():
    store = make_store(
        "分销商城杭州西湖文化广场旗舰店（二期）",
        address_detail="文三路 100 号黄龙时代广场 B 座一楼 101 室",
    )
    image = poster(store)
    assert inked(image, (700, 0, 750, 260), HEADER_RED) == 0  # nothing runs off the right edge
    assert inked(image, (50, 100, 700, 170), HEADER_RED) > 500  # the name's second line
    assert inked(image, (50, 342, 700, 388), (255, 255, 255)) > 500  # the address's second line

    # A name that fits keeps one line; the subtitle moves up under it.
    short = poster(make_store("西湖店"))
    assert inked(short, (50, 155, 700, 205), HEADER_RED) > 500
    assert inked(short, (0, 210, 750, 260), HEADER_RED) == 0
    assert inked(image, (0, 210, 750, 260), HEADER_RED) > 500


def test_emoji_in_the_store_and_guide_names_are_left_out():
    plain, fancy = make_store("茶小铺"), make_store("茶小铺🍵")
    header = (0, 0, 750, 260)
    assert ImageChops.difference(poster(plain).crop(header), poster(fancy).crop(header)).getbbox() is None

    store = make_store()
    wang, flower = guide(store), guide(store)
    for staff, nickname in ((wang, "小王"), (flower, "小王🌸")):
        staff.user.nickname = nickname
        staff.user.save(update_fields=["nickname"])
    caption = (0, 1000, 750, 1060)
    signed, fancy_signed = poster(store, wang).crop(caption), poster(store, flower).crop(caption)
    assert inked(signed, (0, 0, 750, 60), (255, 255, 255)) > 0
    assert ImageChops.difference(signed, fancy_signed).getbbox() is None
