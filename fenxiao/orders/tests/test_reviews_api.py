"""商品评价 API: a buyer reviews a line once; anyone reads a product's shown reviews and figures."""

import pytest
from django.test import Client

from fenxiao.orders.models import ProductReview
from fenxiao.orders.services import reviews
from fenxiao.testing import api_for, assert_refused, make_buyer, make_staff

from .review_helpers import completed_order

pytestmark = pytest.mark.django_db


def test_a_buyer_reviews_a_line_once_and_anyone_reads_it():
    order = completed_order(prices=(990, 1990), buyer=make_buyer(nickname="爱吃鱼的猫"))
    first, second = order.lines.all()
    api = api_for(order.buyer)
    url = f"/orders/{order.number}/lines/{first.pk}/review"
    other = f"/orders/{order.number}/lines/{second.pk}/review"
    reply = api.post(url, {"rating": 5, "text": " 很好 "})
    assert reply.status_code == 201, reply.content
    assert reply.json()["rating"] == 5 and reply.json()["text"] == "很好" and reply.json()["name"] == "爱**猫"
    assert_refused(api.post(url, {"rating": 4}), 409, "REVIEW_EXISTS")
    assert_refused(api.post(other, {"rating": 0}), 422, "INVALID_INPUT")
    assert_refused(
        api.post(other, {"rating": 3, "text": "好" * 501}),
        422,
        "INVALID_INPUT",
    )
    assert_refused(api.post(url, {"rating": 3, "extra": 1}), 422, "INVALID_INPUT")
    # Another buyer's line, or a line of another order, is not found.
    assert_refused(api_for(make_buyer()).post(url, {"rating": 5}), 404, "REVIEW_LINE_NOT_FOUND")
    assert_refused(
        api.post(f"/orders/NOPE/lines/{first.pk}/review", {"rating": 5}), 404, "REVIEW_LINE_NOT_FOUND"
    )
    assert Client().post("/api/v1" + url, {"rating": 5}, content_type="application/json").status_code == 401

    api.post(other, {"rating": 2, "text": "一般"})
    ProductReview.objects.update(product_id=first.product_id)
    reviews.reply(ProductReview.objects.get(rating=5), make_staff(), "谢谢")
    page = Client().get(f"/api/v1/products/{first.product_id}/reviews").json()
    assert (page["count"], page["good_rate_bp"], page["next"]) == (2, 5000, None)
    assert [(r["rating"], r["text"], r["reply"]) for r in page["items"]] == [
        (2, "一般", ""),
        (5, "很好", "谢谢"),
    ]
    assert page["items"][1]["spec_text"] == first.spec_text

    reviews.hide(ProductReview.objects.get(rating=2), make_staff("mod"), "广告")
    paged = Client().get(f"/api/v1/products/{first.product_id}/reviews?page_size=1").json()
    assert (paged["count"], paged["good_rate_bp"], len(paged["items"])) == (1, 10000, 1)


def test_an_order_not_completed_is_refused_and_unknown_products_are_404():
    from .backend import make_order, pay

    order = pay(make_order())
    reply = api_for(order.buyer).post(
        f"/orders/{order.number}/lines/{order.lines.get().pk}/review", {"rating": 5}
    )
    assert_refused(reply, 409, "REVIEW_NOT_ALLOWED")
    assert_refused(Client().get("/api/v1/products/999999/reviews"), 404, "PRODUCT_NOT_FOUND")
    assert Client().get("/api/v1/products/1/reviews?before=0").status_code == 422
