"""The buyer's browsing trail (我的足迹): the products they looked at, newest day first.

One entry per product and day (`ProductView`), so a product looked at on three days shows
under each of them. Reads write this process's pending counts first, so a buyer who just
looked at a product finds it at once (other processes are at most TRAFFIC_FLUSH_SECONDS
behind); clearing does the same, so a view gathered before the clear cannot reappear.
"""

from itertools import groupby

from django.db.models import Prefetch

from fenxiao.catalog.models import ProductImage

from ..models import ProductView
from . import tracking


def entries(buyer):
    """The buyer's trail, newest first, with each product and its images (a queryset, so
    the API can page it; two queries a page, whatever its size)."""
    tracking.flush()
    return (
        ProductView.objects.filter(buyer=buyer)
        .select_related("product")
        .prefetch_related(
            Prefetch("product__images", queryset=ProductImage.objects.order_by("sort_order", "id"))
        )
        .order_by("-day", "-last_viewed_at", "-id")
    )


def by_day(views) -> list[tuple]:
    """[(day, [view, …]), …] for a page of entries, in their order; each view gets `cover`."""
    views = list(views)
    for view in views:
        images = list(view.product.images.all())
        view.cover = images[0] if images else None
    return [(day, list(group)) for day, group in groupby(views, key=lambda v: v.day)]


def clear(buyer) -> int:
    """Forget the buyer's whole trail; returns the entries removed."""
    tracking.flush()
    deleted, _ = ProductView.objects.filter(buyer=buyer).delete()
    return deleted
