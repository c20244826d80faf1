"""The daily media sweep: pictures nothing refers to (description uploads never saved or
taken out, pictures of killed import runs) go once their grace has passed; everything in
use, or still possibly in use, stays."""

import os
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from fenxiao.catalog.models import Product, ProductImage
from fenxiao.catalog.services import media_sweep
from fenxiao.core.models import Job, JobStatus
from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def stored(name: str, *, days_old: float, root: Path) -> str:
    name = default_storage.save(name, ContentFile(b"picture"))
    stamp = time.time() - days_old * 86400
    os.utime(root / name, (stamp, stamp))
    return name


def job(status) -> Job:
    return Job.objects.create(kind="product_import", title="导入商品", status=status)


def test_only_old_pictures_nothing_refers_to_are_removed(tmp_path):
    hexes = iter(f"{n:032x}" for n in range(1, 100))
    described = stored(f"products/description/{next(hexes)}.png", days_old=3, root=tmp_path)
    dropped = stored(f"products/description/{next(hexes)}.png", days_old=3, root=tmp_path)
    editing = stored(f"products/description/{next(hexes)}.png", days_old=0.1, root=tmp_path)
    tea = make_product("龙井")
    Product.objects.filter(pk=tea.pk).update(description=f'<p><img src="/media/{described}"></p>')

    failed, running = job(JobStatus.FAILED), job(JobStatus.RUNNING)
    kept_by_product = stored(f"products/import-{failed.pk}-ab12/{next(hexes)}.jpg", days_old=2, root=tmp_path)
    killed = stored(f"products/import-{failed.pk}-ab12/{next(hexes)}.jpg", days_old=2, root=tmp_path)
    of_deleted_job = stored(f"products/import-999999-cd34/{next(hexes)}.jpg", days_old=2, root=tmp_path)
    still_running = stored(f"products/import-{running.pk}-ef56/{next(hexes)}.jpg", days_old=2, root=tmp_path)
    ProductImage.objects.create(product=make_product("碧螺春"), image=kept_by_product)
    gallery = ProductImage.objects.create(product=make_product("白茶"), image=ContentFile(b"x", name="g.jpg"))

    assert media_sweep.sweep() == 3
    gone = {dropped, killed, of_deleted_job}
    for name in (described, editing, kept_by_product, still_running, gallery.image.name, *gone):
        assert default_storage.exists(name) == (name not in gone), name
    assert media_sweep.sweep() == 0  # nothing left to do


def test_an_empty_store_is_swept_without_error():
    assert media_sweep.sweep() == 0
