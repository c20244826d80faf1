"""Copy a product (复制商品): a new product in the warehouse (not listed) with the same
category, texts, description, SKUs and pictures, so a merchant can start a similar product
from a finished one.

The copy shares nothing mutable with the original: SKUs get new codes ("<code>-copy-N", the
first N free across the shop), stock and sales start from the original's stock and zero
sales, and the picture files are duplicated, so deleting a picture of one never breaks the
other (a SKU's 规格图 is the copy's duplicate of its picture). Pictures inside the
description are referenced by URL: the copy's description names them too, and the media
sweep removes one only when no description names it any more.
"""

from django.core.files.base import ContentFile
from django.db import transaction

from ..models import Product, ProductImage, Sku
from .products import refresh_summary
from .spec_matrix import CODE_MAX

NAME_MAX = 80


def _copy_code(code: str, taken: set[str]) -> str:
    n = 1
    while True:
        suffix = f"-copy-{n}"
        candidate = code[: CODE_MAX - len(suffix)] + suffix
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        n += 1


@transaction.atomic
def copy_product(product: Product) -> Product:
    product = Product.objects.get(pk=product.pk)  # what is saved, not a caller's stale copy
    skus = list(Sku.objects.filter(product=product).order_by("pk"))
    suffix = "（复制）"
    copy = Product.objects.create(
        name=product.name[: NAME_MAX - len(suffix)] + suffix,
        subtitle=product.subtitle,
        category_id=product.category_id,
        description=product.description,
        is_listed=False,
        weight_grams=product.weight_grams,
    )
    duplicates: dict[int, ProductImage] = {}  # original picture id → its copy
    for image in ProductImage.objects.filter(product=product).order_by("sort_order", "id"):
        if not image.image:
            continue
        try:
            with image.image.open("rb") as source:
                content = source.read()
        except OSError:
            continue  # a missing file is not worth refusing the copy for
        ext = image.image.name.rsplit(".", 1)[-1].lower() if "." in image.image.name else "jpg"
        duplicate = ProductImage(product=copy, sort_order=image.sort_order)
        duplicate.image.save(f"{duplicate.uuid}.{ext}", ContentFile(content), save=False)
        duplicate.save()
        duplicates[image.pk] = duplicate
    taken = set(Sku.objects.filter(code__regex=r"-copy-[0-9]+$").values_list("code", flat=True))
    Sku.objects.bulk_create(
        [
            Sku(
                product=copy,
                code=_copy_code(sku.code, taken),
                specs=sku.specs,
                price=sku.price,
                list_price=sku.list_price,
                stock=sku.stock,
                weight_grams=sku.weight_grams,
                is_active=sku.is_active,
                image=duplicates.get(sku.image_id),  # the 规格图 follows to the copy's picture
            )
            for sku in skus
        ]
    )
    refresh_summary([copy.pk])
    copy.refresh_from_db()
    return copy
