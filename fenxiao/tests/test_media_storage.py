"""Media goes through Django's storage API only, so any shared store can hold it: product
images and banners are written, read back (share posters), listed and deleted through the
configured storage, and nothing reaches the local disk."""

import io

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from fenxiao.catalog.models import ProductImage
from fenxiao.demo.shop import delete_shop_media
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.storefront.models import Banner
from fenxiao.testing import ApiClient, make_product

MEMORY = "django.core.files.storage.InMemoryStorage"


@pytest.fixture
def memory_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": MEMORY}}
    return tmp_path / "media"


def jpeg(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), colour).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.mark.django_db
def test_product_pictures_posters_and_banners_live_in_the_configured_storage(memory_storage):
    product = make_product("红色台灯", price=5900)
    picture = ProductImage.objects.create(
        product=product, image=ContentFile(jpeg("#dd0000"), name="lamp.jpg")
    )
    banner = Banner.objects.create(title="上新", image=ContentFile(jpeg("#0000dd"), name="new.jpg"))
    storage = ProductImage._meta.get_field("image").storage
    assert type(storage._wrapped).__name__ == "InMemoryStorage"
    assert storage.exists(picture.image.name) and storage.exists(banner.image.name)
    assert not memory_storage.exists()  # nothing written to the local disk

    # The API hands out the storage's URL for the picture.
    listed = ApiClient().get(f"/products/{product.pk}").json()
    assert listed["image_urls"] == [f"http://testserver/media/{picture.image.name}"]

    # The share poster reads the product picture back from the storage.
    distributor = make_distributor()
    browser = Client()
    browser.force_login(distributor.user)
    reply = browser.get(f"/d/share/poster/{product.pk}.png")
    assert reply.status_code == 200
    poster = Image.open(io.BytesIO(reply.content)).convert("RGB")
    red, green, blue = poster.getpixel((375, 375))
    assert red > 200 and green < 40 and blue < 40  # the picture, not the grey placeholder

    # Resetting the demo shop deletes the files through the same storage.
    delete_shop_media()
    assert not storage.exists(picture.image.name) and not storage.exists(banner.image.name)
