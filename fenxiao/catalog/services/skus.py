"""Which SKUs can be sold right now."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from ..errors import ProductDelisted, SkuNotFound
from ..models import ProductImage, Sku


def load_saleable(sku_ids, *, with_images: bool = False) -> dict[int, Sku]:
    """SKUs by id with their products, in one query (two with images).

    Refuses the whole set if any SKU is unknown, switched off or its product is delisted:
    a buyer must never pay for something the merchant has taken off sale.
    """
    ids = list(dict.fromkeys(sku_ids))
    qs = Sku.objects.select_related("product").filter(pk__in=ids)
    if with_images:
        qs = qs.prefetch_related(
            Prefetch("product__images", queryset=ProductImage.objects.order_by("sort_order", "id"))
        )
    skus = {sku.pk: sku for sku in qs}
    missing = [pk for pk in ids if pk not in skus]
    if missing:
        raise SkuNotFound(sku_ids=missing)
    off_sale = [pk for pk, sku in skus.items() if not (sku.is_active and sku.product.is_listed)]
    if off_sale:
        names = "、".join(skus[pk].product.name for pk in off_sale)
        raise ProductDelisted(_("商品已下架：%(names)s") % {"names": names}, sku_ids=off_sale)
    return skus
