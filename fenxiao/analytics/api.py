"""Buyer API: the browsing trail (我的足迹)."""

from datetime import date, datetime

from ninja import Router, Schema, Status
from ninja.pagination import paginate

from fenxiao.core.money import format_fen
from fenxiao.core.pagination import Pagination
from fenxiao.customers.auth import buyer_auth

from .services import tracking_trail

router = Router(tags=["浏览足迹"])


class TrailEntryOut(Schema):
    product_id: int
    name: str
    price: int
    price_display: str
    cover_url: str | None
    available: bool
    day: date
    views: int
    last_viewed_at: datetime

    @staticmethod
    def resolve_name(obj):
        return obj.product.name

    @staticmethod
    def resolve_price(obj):
        return obj.product.price

    @staticmethod
    def resolve_price_display(obj):
        return format_fen(obj.product.price)

    @staticmethod
    def resolve_cover_url(obj, context):
        images = list(obj.product.images.all())
        return context["request"].build_absolute_uri(images[0].image.url) if images else None

    @staticmethod
    def resolve_available(obj):
        return obj.product.is_listed


@router.get("/me/trail", response=list[TrailEntryOut], auth=buyer_auth)
@paginate(Pagination, page_size=20)
def trail(request):
    """The signed-in buyer's browsing trail, newest day first: one entry per product and day."""
    return tracking_trail.entries(request.user)


@router.delete("/me/trail", response={204: None}, auth=buyer_auth)
def clear_trail(request):
    """Forget the signed-in buyer's whole browsing trail."""
    tracking_trail.clear(request.user)
    return Status(204, None)
