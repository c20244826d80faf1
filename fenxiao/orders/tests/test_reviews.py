"""商品评价, the service: who may review what and when, one review per line, moderation, and
the product's figures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.core.errors import DomainError
from fenxiao.orders.models import Order, OrderEvent, OrderLine, ProductReview
from fenxiao.orders.services import reviews
from fenxiao.orders.services.checkout import place_order
from fenxiao.testing import make_buyer, make_staff

from .backend import make_order, pay
from .review_helpers import completed_order

pytestmark = pytest.mark.django_db


def refused(call, code: str, status: int) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.as_dict()
    return caught.value


def test_the_buyer_of_a_completed_order_reviews_each_line_once():
    order = completed_order(prices=(4990, 1990))
    first, second = order.lines.all()
    review = reviews.write(order.buyer, first.pk, 5, "  很好用，包装完好  ")
    assert (review.rating, review.text, review.product_id, review.order_id) == (
        5,
        "很好用，包装完好",
        first.product_id,
        order.pk,
    )
    # Text is optional; only whitespace is none.
    assert reviews.write(order.buyer, second.pk, 3, "   ").text == ""
    refused(lambda: reviews.write(order.buyer, first.pk, 4, "再评一次"), "REVIEW_EXISTS", 409)
    assert ProductReview.objects.count() == 2


@pytest.mark.parametrize("rating", [0, 6, -1, 4.5, "5", True, None])
def test_a_rating_is_a_whole_number_of_stars_from_1_to_5(rating):
    order = completed_order()
    refused(lambda: reviews.write(order.buyer, order.lines.get().pk, rating), "REVIEW_RATING_INVALID", 400)
    assert not ProductReview.objects.exists()


def test_text_longer_than_500_is_refused():
    order = completed_order()
    line = order.lines.get()
    refused(lambda: reviews.write(order.buyer, line.pk, 5, "好" * 501), "REVIEW_TEXT_TOO_LONG", 400)
    assert reviews.write(order.buyer, line.pk, 5, "好" * 500).text == "好" * 500


def test_only_the_buyer_reviews_and_only_after_completion():
    order = completed_order()
    line = order.lines.get()
    refused(lambda: reviews.write(make_buyer(), line.pk, 5), "REVIEW_LINE_NOT_FOUND", 404)
    refused(lambda: reviews.write(order.buyer, 10**12, 5), "REVIEW_LINE_NOT_FOUND", 404)
    paid = pay(make_order())
    error = refused(lambda: reviews.write(paid.buyer, paid.lines.get().pk, 5), "REVIEW_NOT_ALLOWED", 409)
    assert error.message == "订单完成后才能评价"


def test_the_window_closes_30_days_after_completion():
    order = completed_order()
    Order.objects.filter(pk=order.pk).update(
        completed_at=timezone.now() - timedelta(days=reviews.REVIEW_DAYS, minutes=1)
    )
    error = refused(lambda: reviews.write(order.buyer, order.lines.get().pk, 5), "REVIEW_NOT_ALLOWED", 409)
    assert "30" in error.message


def test_a_line_refunded_in_full_is_not_reviewed():
    order = completed_order()
    line = order.lines.get()
    OrderLine.objects.filter(pk=line.pk).update(refunded_amount=line.paid_amount)
    refused(lambda: reviews.write(order.buyer, line.pk, 1, "退了"), "REVIEW_NOT_ALLOWED", 409)


def test_review_states_on_my_orders():
    order = completed_order(prices=(100, 200))
    first, second = order.lines.all()
    reviews.write(order.buyer, first.pk, 4)
    sku = first.sku
    open_order = pay(place_order(order.buyer, [(sku.pk, 1)], address_id=order.buyer.addresses.get().pk))
    orders = list(Order.objects.filter(buyer=order.buyer).prefetch_related("lines").order_by("id"))
    reviews.mark_review_states(orders)
    assert [line.review_state for o in orders for line in o.lines.all()] == [
        reviews.DONE,
        reviews.OPEN,
        None,
    ]
    assert open_order.pk == orders[1].pk


def test_figures_count_shown_reviews_and_the_good_share():
    orders = [completed_order() for _ in range(3)]
    product = orders[0].lines.get().product
    # Three reviews of the same product: each order's line points at its own product, so
    # copy the first one's product onto the others' reviews.
    made = [
        reviews.write(o.buyer, o.lines.get().pk, rating) for o, rating in zip(orders, (5, 4, 2), strict=True)
    ]
    ProductReview.objects.filter(pk__in=[r.pk for r in made]).update(product=product)
    assert reviews.figures(product.pk) == reviews.Figures(count=3, good_bp=6667)
    reviews.hide(made[2], make_staff(), "辱骂")
    assert reviews.figures(product.pk) == reviews.Figures(count=2, good_bp=10000)
    assert reviews.figures(10**12) == reviews.Figures(count=0, good_bp=0)


def test_hide_unhide_reply_are_staff_changes_with_a_record():
    order = completed_order()
    review = reviews.write(order.buyer, order.lines.get().pk, 1, "垃圾")
    staff = make_staff()
    refused(lambda: reviews.hide(review, staff, "  "), "REVIEW_TEXT_REQUIRED", 400)
    review = reviews.hide(review, staff, "含辱骂内容")
    assert (review.is_hidden, review.hidden_reason, review.hidden_by) == (True, "含辱骂内容", staff)
    refused(lambda: reviews.hide(review, staff, "再次"), "INVALID_STATE_TRANSITION", 409)
    review = reviews.unhide(review, staff)
    assert (review.is_hidden, review.hidden_reason) == (False, "含辱骂内容")
    refused(lambda: reviews.unhide(review, staff), "INVALID_STATE_TRANSITION", 409)
    refused(lambda: reviews.reply(review, staff, ""), "REVIEW_TEXT_REQUIRED", 400)
    review = reviews.reply(review, staff, "抱歉给您带来不好的体验")
    assert (review.reply, review.replied_by) == ("抱歉给您带来不好的体验", staff)
    kinds = list(
        OrderEvent.objects.filter(order=order, kind__startswith="review_").values_list(
            "kind", "buyer_visible"
        )
    )
    assert kinds == [("review_hidden", False), ("review_unhidden", False), ("review_reply", False)]


@pytest.mark.parametrize(
    ("nickname", "phone", "shown"),
    [("爱吃鱼的猫", None, "爱**猫"), ("猫", None, "猫**"), ("", "13812345678", "1**8")],
)
def test_reviewers_are_shown_by_a_masked_name(nickname, phone, shown):
    order = completed_order(buyer=make_buyer(phone=phone, nickname=nickname))
    assert reviews.write(order.buyer, order.lines.get().pk, 5).masked_name == shown
