"""Photo evidence for an after-sale: checked with Pillow before anything is written.

A file is accepted only if Pillow recognises it as a JPEG, PNG or WEBP image of sane
size: the name and the browser's content type are not trusted. Every file of a request is
checked first, so a bad third photo refuses the whole request with nothing half-written.
"""

import warnings

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from ..errors import AfterSaleImageInvalid
from ..models import MAX_AFTER_SALE_IMAGES, MAX_EVIDENCE_IMAGES, AfterSaleImage

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a 48-megapixel phone photo is 8000×6000; beyond is a bomb
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def check_images(files, *, already: int = 0) -> list[tuple[object, str]]:
    """[(file, extension)] for the uploaded `files`, or AfterSaleImageInvalid."""
    files = [f for f in files or [] if f]
    if len(files) > MAX_EVIDENCE_IMAGES:
        raise AfterSaleImageInvalid(_("一次最多上传%(max)s张图片") % {"max": MAX_EVIDENCE_IMAGES})
    if already + len(files) > MAX_AFTER_SALE_IMAGES:
        raise AfterSaleImageInvalid(_("每个售后最多上传%(max)s张图片") % {"max": MAX_AFTER_SALE_IMAGES})
    return [(f, _check(f)) for f in files]


def _check(upload) -> str:
    size = getattr(upload, "size", None)
    if size is None or size > MAX_IMAGE_BYTES:
        raise AfterSaleImageInvalid(_("单张图片不能超过5MB"))
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                kind = image.format
                width, height = image.size
                image.verify()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ):
        raise AfterSaleImageInvalid() from None
    finally:
        upload.seek(0)
    if kind not in FORMATS:
        raise AfterSaleImageInvalid()
    if width * height > MAX_IMAGE_PIXELS:
        raise AfterSaleImageInvalid(_("图片尺寸过大"))
    return FORMATS[kind]


def save_images(after_sale, log, checked: list[tuple[object, str]]) -> list[AfterSaleImage]:
    saved = []
    for upload, extension in checked:
        item = AfterSaleImage(after_sale=after_sale, log=log)
        item.extension = extension
        upload.seek(0)
        item.image.save(f"evidence.{extension}", upload, save=True)
        saved.append(item)
    return saved
