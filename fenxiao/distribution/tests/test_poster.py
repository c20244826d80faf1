"""The share poster draws only what its font can: an emoji in the distributor's nickname or
the product's name is left out instead of drawn as a box (□)."""

import io

import pytest
from django.test import Client
from PIL import Image, ImageChops

from fenxiao.distribution.services import sharing
from fenxiao.testing import make_product

from .helpers import make_distributor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese_font():
    if sharing._font_path() is None:
        pytest.skip("no Chinese font installed (make fonts)")


def poster(distributor, product) -> Image.Image:
    client = Client()
    client.force_login(distributor.user)
    reply = client.get(f"/d/share/poster/{product.pk}.png")
    assert reply.status_code == 200 and reply["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(reply.content)).convert("RGB")


def same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


def test_emoji_the_font_cannot_draw_are_left_out(settings):
    settings.SITE_URL = "https://shop.example.com"
    tea = make_product("高山乌龙茶", price=12800)
    distributor = make_distributor()
    user = distributor.user

    user.nickname = "茶小铺"
    user.save()
    plain = poster(distributor, tea)
    user.nickname = "茶小铺 🍵👨‍👩‍👧"
    user.save()
    with_emoji = poster(distributor, tea)
    # The referral code in the QR is the same: the two posters differ only where the
    # emoji would be drawn.
    assert same(plain, with_emoji)

    tea.name = "🍵高山乌龙茶"
    tea.save()
    assert same(plain, poster(distributor, tea))


def test_a_nickname_of_emoji_only_reads_as_a_friend(settings):
    settings.SITE_URL = "https://shop.example.com"
    tea = make_product("高山乌龙茶", price=12800)
    distributor = make_distributor()
    user = distributor.user
    user.nickname = ""
    user.save()
    nameless = poster(distributor, tea)  # 好友 为你推荐
    user.nickname = "🌸🌸"
    user.save()
    assert same(nameless, poster(distributor, tea))


def test_drawable_text_keeps_what_the_font_has():
    assert sharing._drawable("小王 🍵 茶") == "小王 茶"
    assert sharing._drawable("Café Zoë ①号店★") == "Café Zoë ①号店★"
