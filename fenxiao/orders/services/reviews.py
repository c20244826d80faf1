"""商品评价: a buyer rates what they received, the product page shows it, staff moderate it.

Invariants this module keeps:
- One review per order line, ever: the unique order line on `ProductReview` decides, so a
  double submit (two taps, two devices) writes one review and answers the other with 409
  `REVIEW_EXISTS`, never a 500 and never "check then insert".
- Only the buyer of a completed order reviews, within `REVIEW_DAYS` of completion, and not a
  line refunded in full (nothing of it was kept to judge).
- A hidden review counts nowhere a buyer looks: not in the product's 评价数 and 好评率,
  not on its pages. Hiding keeps the review and its reason; 取消隐藏 brings it back.
- Every staff change is a conditional update (a second click finds nothing to do) and
  leaves a staff-only line in the order's log.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Q, Sum, When, Window
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.core.errors import InvalidTransition
from fenxiao.core.exports import Export, id_chunks, in_order
from fenxiao.core.money import ratio_bp
from fenxiao.core.tabular import time_cell

from ..errors import ReviewExists, ReviewInvalid, ReviewLineNotFound, ReviewNotAllowed
from ..models import GOOD_RATING, MAX_RATING, MAX_TEXT, ActorKind, OrderLine, OrderStatus, ProductReview
from .events import log_event
from .exports import PHONE_PERMISSION, phone_for

# How long after completion (确认收货 or auto-complete) a buyer may still review a line.
REVIEW_DAYS = 30
MAX_REASON = ProductReview._meta.get_field("hidden_reason").max_length
# What the product page shows before its link to all reviews.
LATEST_ON_PRODUCT = 3

# A line's review state on 我的订单: "open" offers 评价, "done" shows 已评价; None shows nothing.
OPEN, DONE = "open", "done"


@dataclass(frozen=True)
class Figures:
    count: int
    good_bp: int  # 好评率: the 4–5★ share of the shown reviews, in basis points


def _fully_refunded(line: OrderLine) -> bool:
    return line.refunded_quantity >= line.quantity or (0 < line.paid_amount <= line.refunded_amount)


def refusal(line: OrderLine, now=None) -> str:
    """Why the buyer may not review `line` now ("" when they may); its order is read from
    `line.order`."""
    order = line.order
    if order.status != OrderStatus.COMPLETED or order.completed_at is None:
        return _("订单完成后才能评价")
    if (now or timezone.now()) > order.completed_at + timedelta(days=REVIEW_DAYS):
        return _("订单完成已超过 %(days)s 天，不能再评价") % {"days": REVIEW_DAYS}
    if _fully_refunded(line):
        return _("已全额退款的商品不能评价")
    return ""


def clean_rating(rating) -> int:
    # Whole stars only: 4.5, "5", True are refused rather than rounded or read.
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= MAX_RATING:
        raise ReviewInvalid(_("请选择 1 到 5 星的评分"), code="REVIEW_RATING_INVALID")
    return rating


def clean_text(text, *, max_length: int = MAX_TEXT, required: str = "") -> str:
    """Stripped; only whitespace is empty. `required` is the refusal for an empty text."""
    text = (text or "").strip() if isinstance(text, str) or text is None else None
    if text is None:
        raise ReviewInvalid()
    if len(text) > max_length:
        raise ReviewInvalid(_("最多 %(max)s 个字") % {"max": max_length}, code="REVIEW_TEXT_TOO_LONG")
    if not text and required:
        raise ReviewInvalid(required, code="REVIEW_TEXT_REQUIRED")
    return text


def write(buyer, order_line_id: int, rating, text: str = "") -> ProductReview:
    """The buyer's review of one line of their completed order; the text is optional."""
    rating, text = clean_rating(rating), clean_text(text)
    line = OrderLine.objects.select_related("order").filter(pk=order_line_id, order__buyer=buyer).first()
    if line is None:
        raise ReviewLineNotFound()
    why = refusal(line)
    if why:
        raise ReviewNotAllowed(why)
    try:
        # Its own savepoint: the refused insert leaves the caller's transaction usable.
        with transaction.atomic():
            return ProductReview.objects.create(
                order_line=line,
                order_id=line.order_id,
                product_id=line.product_id,
                buyer=buyer,
                rating=rating,
                text=text,
            )
    except IntegrityError:
        if ProductReview.objects.filter(order_line=line).exists():
            raise ReviewExists() from None
        raise


def mark_review_states(orders, now=None) -> None:
    """Set `review_state` (OPEN, DONE or None) on every line of `orders` (their lines
    prefetched), and on each order `line_to_review` (its first OPEN line, or None) and
    `all_reviewed` (nothing open, something reviewed): one query for the completed orders'
    reviewed lines, whatever their number."""
    now = now or timezone.now()
    completed = [order for order in orders if order.status == OrderStatus.COMPLETED]
    line_ids = [line.pk for order in completed for line in order.lines.all()]
    reviewed = (
        set(ProductReview.objects.filter(order_line_id__in=line_ids).values_list("order_line_id", flat=True))
        if line_ids
        else set()
    )
    for order in orders:
        for line in order.lines.all():
            if line.pk in reviewed:
                line.review_state = DONE
            elif order.status == OrderStatus.COMPLETED and not refusal(_with_order(line, order), now):
                line.review_state = OPEN
            else:
                line.review_state = None
        states = [line.review_state for line in order.lines.all()]
        order.line_to_review = next((line for line in order.lines.all() if line.review_state == OPEN), None)
        order.all_reviewed = DONE in states and OPEN not in states


def _with_order(line: OrderLine, order) -> OrderLine:
    line.order = order  # the order in hand: no query per line
    return line


def shown(product_id: int):
    """The reviews a buyer sees of a product, newest first."""
    return ProductReview.objects.filter(product_id=product_id, is_hidden=False).order_by("-id")


def figures(product_id: int) -> Figures:
    """评价数 and 好评率 of the shown reviews: one aggregate over the product's index."""
    row = shown(product_id).aggregate(count=Count("id"), good=Count("id", filter=Q(rating__gte=GOOD_RATING)))
    return Figures(count=row["count"], good_bp=ratio_bp(row["good"], row["count"]))


def on_product_page(product_id: int, size: int = LATEST_ON_PRODUCT) -> tuple[Figures, list[ProductReview]]:
    """The product page's figures and its latest `size` shown reviews in one query: each row
    carries the counts over all the shown reviews (window aggregates run before the LIMIT)."""
    everything = Window(Count("id"))
    good = Window(Sum(Case(When(rating__gte=GOOD_RATING, then=1), default=0)))
    rows = list(
        shown(product_id).select_related("buyer", "order_line").annotate(total=everything, good=good)[:size]
    )
    if not rows:
        return Figures(count=0, good_bp=0), []
    return Figures(count=rows[0].total, good_bp=ratio_bp(rows[0].good, rows[0].total)), rows


def _change_if(review: ProductReview, condition: Q, **fields) -> bool:
    return ProductReview.objects.filter(Q(pk=review.pk) & condition).update(**fields) == 1


@transaction.atomic
def hide(review: ProductReview, staff, reason: str) -> ProductReview:
    """Out of the product's pages and figures; the reason is kept (and stays after 取消隐藏)."""
    reason = clean_text(reason, max_length=MAX_REASON, required=_("请填写隐藏原因"))
    if not _change_if(
        review,
        Q(is_hidden=False),
        is_hidden=True,
        hidden_reason=reason,
        hidden_at=timezone.now(),
        hidden_by=staff,
    ):
        raise InvalidTransition(_("该评价已隐藏"))
    log_event(
        review.order,
        "review_hidden",
        ActorKind.STAFF,
        gettext_noop("商家隐藏了评价：%(reason)s"),
        actor=staff,
        args={"reason": reason},
        buyer_visible=False,
    )
    review.refresh_from_db()
    return review


@transaction.atomic
def unhide(review: ProductReview, staff) -> ProductReview:
    if not _change_if(review, Q(is_hidden=True), is_hidden=False):
        raise InvalidTransition(_("该评价未隐藏"))
    log_event(
        review.order,
        "review_unhidden",
        ActorKind.STAFF,
        gettext_noop("商家取消隐藏评价"),
        actor=staff,
        buyer_visible=False,
    )
    review.refresh_from_db()
    return review


@transaction.atomic
def reply(review: ProductReview, staff, text: str) -> ProductReview:
    """商家回复, shown under the review; a later reply replaces it."""
    text = clean_text(text, required=_("请填写回复内容"))
    ProductReview.objects.filter(pk=review.pk).update(reply=text, replied_at=timezone.now(), replied_by=staff)
    log_event(
        review.order,
        "review_reply",
        ActorKind.STAFF,
        gettext_noop("商家回复了评价：%(reply)s"),
        actor=staff,
        args={"reply": text[:200]},
        buyer_visible=False,
    )
    review.refresh_from_db()
    return review


# --- 导出 on the backend list ---------------------------------------------------------------------

EXPORT_HEADERS = [
    "商品",
    "规格",
    "评分",
    "评价内容",
    "买家昵称",
    "买家手机号",
    "订单号",
    "评价时间",
    "状态",
    "隐藏原因",
    "商家回复",
    "回复时间",
]


def export_rows(queryset, user):
    """One row per review, one query per chunk; phones masked as on the list."""
    for ids in id_chunks(queryset):
        found = ProductReview.objects.filter(pk__in=ids).select_related("order_line", "order", "buyer")
        for review in in_order(found, ids):
            yield [
                review.order_line.product_name,
                review.order_line.spec_text,
                review.rating,
                review.text,
                review.buyer.nickname or "",
                phone_for(user, review.buyer.phone),
                review.order.number,
                time_cell(review.created_at),
                "已隐藏" if review.is_hidden else "显示中",
                review.hidden_reason,
                review.reply,
                time_cell(review.replied_at),
            ]


EXPORT = Export(
    title="商品评价",
    name="reviews",
    headers=EXPORT_HEADERS,
    rows=export_rows,
    widths={0: 30, 3: 50, 6: 22, 7: 20, 10: 40, 11: 20},
    phone_permission=PHONE_PERMISSION,
)
