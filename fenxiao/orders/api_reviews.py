"""商品评价 API: a product's shown reviews with its figures (public), and a buyer's review of
one line of their completed order."""

from datetime import datetime

from ninja import Field, Path, Query, Router, Schema, Status

from fenxiao.catalog.errors import ProductNotFound
from fenxiao.catalog.models import Product
from fenxiao.customers.auth import buyer_auth
from fenxiao.distribution.paging import KeysetPagination, page_before

from .errors import ReviewLineNotFound
from .models import MAX_RATING, MAX_TEXT, OrderLine, ProductReview
from .schemas import MAX_ID, Strict
from .services import reviews

router = Router(tags=["商品评价"])

PAGE_SIZE = 20


class ReviewOut(Schema):
    id: int
    rating: int = Field(description="1–5 星")
    text: str
    name: str = Field(description="评价人（脱敏昵称，如 爱**猫）")
    spec_text: str = Field(description="购买的规格")
    created_at: datetime
    reply: str = Field(description="商家回复；空表示未回复")
    replied_at: datetime | None

    @staticmethod
    def resolve_name(review: ProductReview) -> str:
        return review.masked_name

    @staticmethod
    def resolve_spec_text(review: ProductReview) -> str:
        return review.order_line.spec_text


class ReviewPageOut(Schema):
    count: int = Field(description="评价数（不含已隐藏）")
    good_rate_bp: int = Field(description="好评率（4–5 星占比），基点：9800 = 98%")
    items: list[ReviewOut]
    next: int | None = Field(None, description="下一页的 before 参数；为空表示没有更多记录")


class ReviewIn(Strict):
    rating: int = Field(ge=1, le=MAX_RATING, description="1–5 星")
    text: str = Field("", max_length=MAX_TEXT, description="评价内容（选填）")


@router.get("/products/{product_id}/reviews", response=ReviewPageOut, auth=None)
def product_reviews(
    request, product_id: int = Path(..., ge=1, le=MAX_ID), query: KeysetPagination.Input = Query(...)
):
    """Newest first; pass the reply's `next` as `before` for the next page."""
    if not Product.objects.filter(pk=product_id, is_listed=True).exists():
        raise ProductNotFound()
    rows, cursor = page_before(
        reviews.shown(product_id).select_related("buyer", "order_line"),
        query.before,
        query.page_size or PAGE_SIZE,
    )
    figures = reviews.figures(product_id)
    return {"count": figures.count, "good_rate_bp": figures.good_bp, "items": rows, "next": cursor}


@router.post("/orders/{number}/lines/{line_id}/review", response={201: ReviewOut}, auth=buyer_auth)
def write_review(request, number: str, payload: ReviewIn, line_id: int = Path(..., ge=1, le=MAX_ID)):
    """The buyer's review of one line of their completed order (once per line: 409
    `REVIEW_EXISTS` after)."""
    if not OrderLine.objects.filter(pk=line_id, order__number=number, order__buyer=request.user).exists():
        raise ReviewLineNotFound()
    review = reviews.write(request.user, line_id, payload.rating, payload.text)
    return Status(201, ProductReview.objects.select_related("buyer", "order_line").get(pk=review.pk))
