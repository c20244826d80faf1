"""商品评价 on the H5: 评价 on a completed order, the form, the product page's figures and
latest reviews (at a flat query count), and the paged list of all of them."""

import pytest
from django.test import Client

from fenxiao.orders.models import ProductReview
from fenxiao.orders.services import reviews
from fenxiao.orders.tests.backend import make_order, pay
from fenxiao.orders.tests.review_helpers import completed_order
from fenxiao.testing import login, make_buyer, make_staff

pytestmark = pytest.mark.django_db


def reviewed_product(ratings, *, buyer=None):
    """One order with a line per rating, each reviewed, all of the first line's product."""
    order = completed_order(prices=[990] * len(ratings), buyer=buyer)
    lines = list(order.lines.all())
    made = [
        reviews.write(order.buyer, line.pk, rating, f"评价{i}")
        for i, (line, rating) in enumerate(zip(lines, ratings, strict=True))
    ]
    ProductReview.objects.filter(pk__in=[r.pk for r in made]).update(product_id=lines[0].product_id)
    return lines[0].product_id, made


def test_a_buyer_reviews_a_line_of_a_completed_order():
    order = completed_order(buyer=make_buyer(nickname="爱吃鱼的猫"))
    line = order.lines.get()
    client = login(order.buyer)
    detail = client.get(f"/orders/{order.number}/").content.decode()
    form_url = f"/orders/{order.number}/lines/{line.pk}/review/"
    assert f'href="{form_url}" data-testid="line-review"' in detail
    assert f'href="{form_url}" data-testid="order-review"' in client.get("/orders/").content.decode()
    page = client.get(form_url).content.decode()
    assert page.count('type="radio" ') == 5 and 'name="rating"' in page and "提交" in page

    refused = client.post(form_url, {"rating": "abc", "text": "不错"})
    assert refused.status_code == 400
    assert "请选择 1 到 5 星的评分" in refused.content.decode() and "不错" in refused.content.decode()

    done = client.post(form_url, {"rating": "5", "text": "  很好  "})
    assert done.status_code == 302 and done["Location"] == f"/orders/{order.number}/"
    assert ProductReview.objects.get().text == "很好"
    assert 'data-testid="line-reviewed"' in client.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="order-reviewed"' in client.get("/orders/").content.decode()
    # A second submit shows the review written, and writes nothing.
    again = client.post(form_url, {"rating": "1", "text": "改评"})
    assert again.status_code == 200 and 'data-testid="my-review"' in again.content.decode()
    assert ProductReview.objects.get().rating == 5

    product = client.get(f"/products/{line.product_id}/").content.decode()
    assert "商品评价 (1)" in product and "好评率 100%" in product
    assert "爱**猫" in product and "爱吃鱼的猫" not in product and "很好" in product


def test_nobody_else_reviews_and_not_before_completion():
    order = completed_order()
    line = order.lines.get()
    assert login(make_buyer()).get(f"/orders/{order.number}/lines/{line.pk}/review/").status_code == 404
    paid = pay(make_order())
    client = login(paid.buyer)
    assert 'data-testid="line-review"' not in client.get(f"/orders/{paid.number}/").content.decode()
    page = client.get(f"/orders/{paid.number}/lines/{paid.lines.get().pk}/review/").content.decode()
    assert "订单完成后才能评价" in page and 'data-testid="review-form"' not in page


def test_the_product_page_shows_figures_replies_and_no_hidden_review():
    product_id, made = reviewed_product([5, 4, 2, 5])
    staff = make_staff()
    reviews.reply(made[3], staff, "感谢支持")
    reviews.hide(made[2], staff, "广告")
    page = Client().get(f"/products/{product_id}/").content.decode()
    assert "商品评价 (3)" in page and "好评率 100%" in page
    assert "评价2" not in page and "感谢支持" in page
    assert page.count('data-testid="review"') == 3
    reviews.unhide(made[2], staff)
    page = Client().get(f"/products/{product_id}/").content.decode()
    assert "商品评价 (4)" in page and "好评率 75%" in page and 'data-testid="all-reviews"' in page


def test_the_product_page_costs_the_same_queries_however_many_reviews(django_assert_max_num_queries):
    few_id, _ = reviewed_product([5])
    client = Client()
    with django_assert_max_num_queries(20) as few:
        client.get(f"/products/{few_id}/")
    budget = len(few.captured_queries)  # read now: the log keeps only the latest queries
    many_id, _ = reviewed_product([5, 4, 3, 2, 1, 5, 5, 4, 4, 5, 1, 5])
    with django_assert_max_num_queries(budget):
        page = client.get(f"/products/{many_id}/").content.decode()
    assert "商品评价 (12)" in page and "好评率 66.67%" in page


def test_all_reviews_page_by_page(monkeypatch):
    from fenxiao.storefront.views import reviews as review_pages

    monkeypatch.setattr(review_pages, "PAGE_SIZE", 2)
    product_id, made = reviewed_product([5, 4, 3])
    client = Client()
    first = client.get(f"/products/{product_id}/reviews/").content.decode()
    assert first.count('data-testid="review"') == 2 and "评价2" in first and "评价0" not in first
    older = client.get(f"/products/{product_id}/reviews/?before={made[1].pk}").content.decode()
    assert older.count('data-testid="review"') == 1 and "评价0" in older
    assert client.get(f"/products/{product_id}/reviews/?before=abc").status_code == 200
    assert client.get("/products/999999999/reviews/").status_code == 404


def test_the_review_pages_read_in_english():
    from fenxiao.testing import chinese_left, in_english

    product_id, made = reviewed_product([5, 3])
    reviews.reply(made[1], make_staff(), "谢谢")
    order = completed_order()
    line = order.lines.get()
    data = [
        line.product_name,
        line.spec_text,
        "评价0",
        "评价1",
        "谢谢",
        made[0].masked_name,
        made[0].order_line.product_name,
    ]
    for url, client in [
        (f"/products/{product_id}/reviews/", in_english(Client())),
        (f"/orders/{order.number}/lines/{line.pk}/review/", in_english(login(order.buyer))),
    ]:
        html = client.get(url).content.decode()
        assert chinese_left(html, *data) == [], url
    reply = in_english(login(order.buyer)).post(
        f"/orders/{order.number}/lines/{line.pk}/review/", {"rating": "9"}
    )
    assert "Please choose a rating from 1 to 5 stars" in reply.content.decode()
