"""商品评价 under a double submit: two requests for the same line at the same instant write
one review, and the other is told 409 `REVIEW_EXISTS` (PostgreSQL, real transactions)."""

from django.test import Client

from fenxiao.customers.services.accounts import issue_token
from fenxiao.orders.models import ProductReview
from fenxiao.testing import postgres_only_marks, run_together

from .review_helpers import completed_order

pytestmark = postgres_only_marks()


def test_a_double_submit_writes_one_review_and_answers_409():
    order = completed_order()
    line = order.lines.get()
    token = issue_token(order.buyer)
    url = f"/api/v1/orders/{order.number}/lines/{line.pk}/review"

    def submit(i):
        reply = Client().post(
            url,
            {"rating": 5, "text": f"第{i}次"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        return reply.status_code, reply.json()["code"] if reply.status_code != 201 else ""

    results = run_together(4, submit)
    assert sorted(results) == [
        (201, ""),
        (409, "REVIEW_EXISTS"),
        (409, "REVIEW_EXISTS"),
        (409, "REVIEW_EXISTS"),
    ]
    assert ProductReview.objects.filter(order_line=line).count() == 1
