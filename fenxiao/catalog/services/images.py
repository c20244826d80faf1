"""Product pictures: the gallery (first picture is the cover) and pictures inside the
description.

Every uploaded file is opened with Pillow before it is stored: only real JPEG, PNG, GIF or
WebP images within the size limits are kept, and the stored name is ours (a random id and
the extension of the format Pillow found), never the uploader's file name, so an upload can
neither be a script in disguise nor choose where it lands.

The gallery is saved in one transaction: pictures left out of the posted order are removed,
new ones are stored, and `sort_order` follows the posted order exactly (0 = cover).
"""

import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from fenxiao.core.numbers import whole_number

from ..errors import CatalogInvalid
from ..models import Product, ProductImage

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_GALLERY = 15
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


@dataclass
class CheckedImage:
    content: bytes
    ext: str
    width: int
    height: int


def check_image(upload) -> CheckedImage:
    """An uploaded file → its bytes if it is an acceptable picture, else CatalogInvalid."""
    name = getattr(upload, "name", "") or _("图片")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_IMAGE_BYTES:
        raise CatalogInvalid(_("图片“%(name)s”超过 5MB") % {"name": name}, code="IMAGE_TOO_LARGE")
    upload.seek(0)
    content = upload.read(MAX_IMAGE_BYTES + 1)
    if len(content) > MAX_IMAGE_BYTES:
        raise CatalogInvalid(_("图片“%(name)s”超过 5MB") % {"name": name}, code="IMAGE_TOO_LARGE")
    import io

    try:
        with Image.open(io.BytesIO(content)) as probe:
            fmt = probe.format
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise CatalogInvalid(_("图片“%(name)s”尺寸过大") % {"name": name}, code="IMAGE_TOO_LARGE")
            probe.verify()
    except CatalogInvalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise CatalogInvalid(_("“%(name)s”不是有效的图片") % {"name": name}, code="IMAGE_INVALID") from exc
    if fmt not in FORMATS:
        raise CatalogInvalid(
            _("图片“%(name)s”格式不支持，请上传 JPG、PNG、GIF 或 WebP") % {"name": name}, code="IMAGE_INVALID"
        )
    return CheckedImage(content=content, ext=FORMATS[fmt], width=width, height=height)


def store_description_image(upload) -> str:
    """A picture for the description: checked, stored under products/, its URL returned."""
    checked = check_image(upload)
    name = default_storage.save(
        f"products/description/{uuid.uuid4().hex}.{checked.ext}", ContentFile(checked.content)
    )
    return default_storage.url(name)


def _add_image(product: Product, checked: CheckedImage, sort_order: int) -> ProductImage:
    image = ProductImage(product=product, sort_order=sort_order)
    image.image.save(f"{image.uuid}.{checked.ext}", ContentFile(checked.content), save=False)
    image.save()
    return image


def _placed(existing_ids, order: list[str], uploads: int) -> list[tuple[str, int]]:
    """The gallery as it will be: ("id", pk) for a saved picture kept, ("new", i) for the
    i-th upload, in the order staff arranged them."""
    tokens = [t for t in order if isinstance(t, str)]
    # Uploaded files the order does not mention (no script ran) go to the end, in upload order.
    mentioned_new = {t for t in tokens if t.startswith("new:")}
    tokens += [f"new:{i}" for i in range(uploads) if f"new:{i}" not in mentioned_new]
    placed: list[tuple[str, int]] = []
    seen: set[str] = set()
    for token in tokens:
        kind, _sep, raw = token.partition(":")
        index = whole_number(raw)
        if token in seen or index is None:
            continue
        seen.add(token)
        if (kind == "id" and index in existing_ids) or (kind == "new" and index < uploads):
            placed.append((kind, index))
    return placed


def _check_size(placed: list) -> None:
    if len(placed) > MAX_GALLERY:
        raise CatalogInvalid(
            _("商品图片最多%(MAX_GALLERY)s张") % {"MAX_GALLERY": MAX_GALLERY}, code="GALLERY_TOO_LARGE"
        )


def check_gallery_size(product: Product | None, order: list[str], uploads: int) -> None:
    """Refuses a gallery of more than MAX_GALLERY pictures, before anything is saved (the
    editor calls it while checking the form, so the rest of what was typed stays on the page)."""
    existing = (
        set(ProductImage.objects.filter(product=product).values_list("pk", flat=True)) if product else set()
    )
    _check_size(_placed(existing, order, uploads))


@transaction.atomic
def save_gallery(product: Product, order: list[str], uploads: list) -> None:
    """`order` lists the pictures as the staff member arranged them: "id:<pk>" for a picture
    already saved, "new:<i>" for the i-th uploaded file. Saved pictures not in the list are
    removed (with their files, after commit)."""
    checked = [check_image(upload) for upload in uploads]
    existing = {img.pk: img for img in ProductImage.objects.filter(product=product)}
    placed = _placed(existing, order, len(checked))
    _check_size(placed)
    kept = {index for kind, index in placed if kind == "id"}
    removed = [img for pk, img in existing.items() if pk not in kept]
    if removed:
        ProductImage.objects.filter(pk__in=[img.pk for img in removed]).delete()
        names = [img.image.name for img in removed if img.image]
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names], robust=True)
    for position, (kind, index) in enumerate(placed):
        if kind == "id":
            if existing[index].sort_order != position:
                ProductImage.objects.filter(pk=index).update(sort_order=position)
        else:
            _add_image(product, checked[index], position)
