"""Pictures in media storage that nothing refers to any more, removed once a day.

Two ways leave such files behind:
- a picture uploaded into a description (products/description/) whose product was never
  saved, or that was taken out of its description later;
- a product import killed between downloading its pictures and writing its rows
  (products/import-<job>-<batch>/): a run that fails cleans up after itself, a killed
  worker cannot.
A file is removed only when nothing refers to it (no product's description, no product
picture), its import job (if any) has ended, and it is older than `GRACE`, since a
merchant may still be editing the description it was uploaded into. Everything goes
through the storage API, so it works on a shared object store as on the local disk.
"""

import logging
import re
from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from fenxiao.core.models import FINAL_JOB_STATUSES, Job

from ..models import Product, ProductImage

logger = logging.getLogger(__name__)

GRACE = timedelta(days=1)
DESCRIPTIONS = "products/description"
IMPORT_BATCH = re.compile(r"^import-(\d+)-[0-9a-f]+$")
DESCRIPTION_PICTURE = re.compile(r"products/description/[0-9a-f]{32}\.[a-z]{3,4}")
CHUNK = 500


def sweep(now=None) -> int:
    """Remove the unreferenced pictures described above; returns how many."""
    cutoff = (now or timezone.now()) - GRACE
    removed = _sweep_descriptions(cutoff)
    dirs, _files = _listdir("products")
    batches = {}
    for name in dirs:
        found = IMPORT_BATCH.match(name)
        if found:
            batches[name] = int(found.group(1))
    # A job still queued or running may yet write rows naming its pictures (a job row that
    # is gone has ended too).
    running = set(
        Job.objects.filter(pk__in=set(batches.values()))
        .exclude(status__in=FINAL_JOB_STATUSES)
        .values_list("pk", flat=True)
    )
    for directory, job_id in sorted(batches.items()):
        if job_id not in running:
            removed += _sweep_batch(f"products/{directory}", cutoff)
    if removed:
        logger.info("media sweep: %s unreferenced pictures removed", removed)
    return removed


def _listdir(directory: str) -> tuple[list[str], list[str]]:
    """A folder's sub-folders and files; none when it does not exist. (Object stores have no
    folders to test for: a prefix is listed, empty or not.)"""
    try:
        return default_storage.listdir(directory)
    except FileNotFoundError:
        return [], []


def _sweep_descriptions(cutoff) -> int:
    _dirs, files = _listdir(DESCRIPTIONS)
    if not files:
        return 0
    referenced = set()
    texts = Product.objects.filter(description__contains=f"{DESCRIPTIONS}/").values_list("description")
    for (text,) in texts.iterator(chunk_size=CHUNK):
        referenced.update(DESCRIPTION_PICTURE.findall(text))
    names = [f"{DESCRIPTIONS}/{name}" for name in files]
    return _remove([name for name in names if name not in referenced], cutoff)


def _sweep_batch(directory: str, cutoff) -> int:
    _dirs, files = _listdir(directory)
    names = [f"{directory}/{name}" for name in files]
    removed = 0
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        used = set(ProductImage.objects.filter(image__in=chunk).values_list("image", flat=True))
        removed += _remove([name for name in chunk if name not in used], cutoff)
    return removed


def _remove(names: list[str], cutoff) -> int:
    removed = 0
    for name in names:
        try:
            if default_storage.get_modified_time(name) >= cutoff:
                continue
            default_storage.delete(name)
        except Exception as exc:  # gone meanwhile, each store saying so its own way: go on
            logger.warning("media sweep: %s left: %s", name, exc)
            continue
        removed += 1
    return removed
