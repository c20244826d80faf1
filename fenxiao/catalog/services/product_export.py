"""The product list as a file in exactly the import's format (`product_import_columns`):
one row per SKU, the template's headers, money as yuan text with two decimals, the
category as its path, pictures as absolute URLs. A merchant can export, edit prices or
stock in a spreadsheet, and import the file back; imported unchanged, it changes nothing.

Reading is a fixed number of queries per chunk of products (SKUs and pictures prefetched
for the chunk; the category paths once).
"""

from collections import defaultdict

from django.conf import settings

from fenxiao.core.exports import Export, id_chunks

from ..models import ProductImage, Sku
from . import product_import_columns as columns


def image_url(image) -> str:
    """An absolute URL of a stored picture (the import recognises it as the product's own
    and keeps it without fetching it)."""
    url = image.image.url
    return url if url.startswith(("http://", "https://")) else f"{settings.SITE_URL}{url}"


def product_rows(queryset, user=None):
    paths = columns.category_paths()
    for ids in id_chunks(queryset):
        skus = defaultdict(list)
        found = Sku.objects.filter(product_id__in=ids).select_related("product__shipping_template")
        for sku in found.order_by("pk"):
            skus[sku.product_id].append(sku)
        images = defaultdict(dict)
        for image in ProductImage.objects.filter(product_id__in=ids).order_by("sort_order", "pk"):
            images[image.product_id][image.pk] = image_url(image)
        for product_id in ids:
            for sku in skus[product_id]:
                yield columns.export_row(
                    sku,
                    category_path=paths.get(sku.product.category_id, ""),
                    image_urls=list(images[product_id].values()),
                    sku_image_url=images[product_id].get(sku.image_id, ""),
                )


PRODUCTS = Export(
    title="商品",
    name="products",
    headers=[columns.header_text(c) for c in columns.COLUMNS],
    rows=product_rows,
    widths={i: c.width for i, c in enumerate(columns.COLUMNS)},
)
