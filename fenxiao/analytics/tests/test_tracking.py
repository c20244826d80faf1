"""H5 pages and the buyer API record traffic per visitor and day, from a first-party cookie."""

import pytest
from django.test import Client

from fenxiao.analytics.models import ProductView, VisitorDay
from fenxiao.analytics.services import tracking
from fenxiao.distribution.services import distributors
from fenxiao.testing import api_for, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

COOKIE = tracking.VISITOR_COOKIE


def day_row() -> VisitorDay:
    return VisitorDay.objects.get()


def counters(row: VisitorDay) -> tuple:
    return (row.page_views, row.product_views, row.cart_adds)


def test_the_visitor_cookie_is_set_once_and_kept(settings):
    client = Client()
    first = client.get("/")
    cookie = first.cookies[COOKIE]
    assert len(cookie.value) == 32 and int(cookie.value, 16) >= 0
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert not cookie["secure"]  # the test site is plain HTTP
    again = client.get("/categories/")
    assert COOKIE not in again.cookies  # kept, not reissued
    row = day_row()
    assert (row.visitor, row.page_views) == (cookie.value, 2)
    # A forged or malformed id is replaced by a fresh one, never stored.
    client.cookies[COOKIE] = "not-an-id"
    replaced = client.get("/")
    assert replaced.cookies[COOKIE].value not in ("not-an-id", cookie.value)
    assert VisitorDay.objects.count() == 2


def test_the_cookie_is_secure_when_the_site_is_https(settings):
    settings.SESSION_COOKIE_SECURE = True
    assert Client().get("/").cookies[COOKIE]["secure"]


def test_counters_add_up_under_repeated_views():
    product = make_product(price=1990)
    buyer = make_buyer()
    client = Client()
    client.force_login(buyer)
    for _ in range(3):
        assert client.get(f"/products/{product.pk}/").status_code == 200
    client.get("/")
    sku = product.skus.get()
    for _ in range(2):
        client.post("/cart/add/", {"sku": sku.pk, "qty": 1})
    row = day_row()
    assert counters(row) == (4, 3, 2)
    assert row.buyer_id == buyer.pk
    view = ProductView.objects.get()
    assert (view.buyer_id, view.product_id, view.views) == (buyer.pk, product.pk, 3)
    assert view.first_viewed_at <= view.last_viewed_at


def test_an_anonymous_product_view_counts_for_the_day_but_leaves_no_trail():
    product = make_product()
    client = Client()
    client.get(f"/products/{product.pk}/")
    row = day_row()
    assert counters(row) == (1, 1, 0)
    assert row.buyer_id is None
    assert not ProductView.objects.exists()


def test_the_buyer_is_set_when_the_visitor_signs_in_later_that_day():
    buyer = make_buyer()
    client = Client()
    client.get("/")
    assert day_row().buyer_id is None
    client.force_login(buyer)
    client.get("/")
    row = day_row()
    assert (row.buyer_id, row.page_views) == (buyer.pk, 2)


def test_the_referral_landing_gives_the_days_source_and_distributor():
    distributor = distributors.designate(make_buyer(), make_staff())
    product = make_product()
    client = Client()
    landing = client.get(f"/r/{distributor.referral_code}?src=poster&to=/products/{product.pk}/")
    assert landing.status_code == 302
    visitor = landing.cookies[COOKIE].value
    client.get(f"/products/{product.pk}/")
    row = day_row()
    assert (row.visitor, row.source, row.distributor_id) == (visitor, "poster", distributor.pk)
    # The redirect itself is no page view; the product page is.
    assert counters(row) == (1, 1, 0)


@pytest.mark.parametrize(
    ("src", "source"), [("link", "link"), ("qr", "qr"), ("store", "store"), ("", "link"), ("bogus", "link")]
)
def test_each_referral_source_is_kept(src, source):
    distributor = distributors.designate(make_buyer(), make_staff())
    Client().get(f"/r/{distributor.referral_code}?src={src}")
    assert (day_row().source, day_row().distributor_id) == (source, distributor.pk)


def test_the_first_source_of_the_day_wins():
    distributor = distributors.designate(make_buyer(), make_staff())
    client = Client()
    client.get("/")  # direct first…
    client.get(f"/r/{distributor.referral_code}?src=qr")  # …a QR code later the same day
    client.get("/search/?q=衬衫")
    row = day_row()
    assert (row.source, row.distributor_id, row.page_views) == ("direct", None, 2)


def test_search_is_the_in_site_search_page_or_a_search_engine():
    Client().get("/search/?q=衬衫")
    assert day_row().source == "search"
    VisitorDay.objects.all().delete()
    Client().get("/", HTTP_REFERER="https://www.baidu.com/s?wd=%E8%A1%AC%E8%A1%AB")
    assert day_row().source == "search"
    VisitorDay.objects.all().delete()
    Client().get("/", HTTP_REFERER="https://notbaidu.com.example.org/")
    assert day_row().source == "direct"


def test_an_unknown_referral_code_is_no_source():
    client = Client()
    assert client.get("/r/NOSUCHCODE?src=qr").status_code == 302
    assert not VisitorDay.objects.exists()
    client.get("/")
    assert day_row().source == "direct"


def test_what_is_not_a_page_view_is_not_counted():
    product = make_product(listed=False)
    client = Client()
    assert client.head("/").status_code == 200
    assert client.get(f"/products/{product.pk}/").status_code == 404
    assert client.get("/products/999999/").status_code == 404
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/favicon.ico").status_code == 301
    assert client.get("/me/").status_code == 302  # to sign in
    assert client.get("/", HTTP_HX_REQUEST="true").status_code == 200  # an htmx fragment
    for bot in ("Baiduspider/2.0", "Mozilla/5.0 (compatible; Googlebot/2.1)", "curl/8.0"):
        assert client.get("/", HTTP_USER_AGENT=bot).status_code == 200
    staff = make_staff(superuser=True)
    backend = Client()
    backend.force_login(staff)
    assert backend.get("/backend/").status_code == 200
    assert not VisitorDay.objects.exists()


def test_no_address_or_user_agent_is_kept():
    Client().get("/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari")
    row = VisitorDay.objects.values().get()
    stored = " ".join(str(v) for v in row.values())
    assert "203.0.113.7" not in stored and "iPhone" not in stored


def test_the_api_product_detail_and_cart_add_count_for_the_buyer():
    product = make_product()
    buyer = make_buyer()
    api = api_for(buyer)
    assert api.get(f"/products/{product.pk}").status_code == 200
    assert api.post("/cart/lines", {"sku_id": product.skus.get().pk, "quantity": 1}).status_code == 201
    row = day_row()
    # A token caller without a cookie is one visitor per buyer (a keyed hash, not the id).
    assert row.visitor == tracking.buyer_visitor(buyer.pk) != str(buyer.pk)
    assert (row.buyer_id, counters(row)) == (buyer.pk, (0, 1, 1))
    assert ProductView.objects.get().buyer_id == buyer.pk


def test_the_api_counts_a_cookie_or_header_visitor_and_skips_an_anonymous_caller():
    product = make_product()
    client = Client()
    assert client.get(f"/api/v1/products/{product.pk}").status_code == 200
    assert not VisitorDay.objects.exists()  # no id: would be a new visitor every call
    visitor = "ab" * 16
    client.get(f"/api/v1/products/{product.pk}", HTTP_X_FENXIAO_VISITOR=visitor)
    client.get("/")  # the H5 cookie…
    client.get(f"/api/v1/products/{product.pk}")  # …is used by the API too
    rows = dict(VisitorDay.objects.values_list("visitor", "product_views"))
    assert rows[visitor] == 1
    (cookie_visitor,) = set(rows) - {visitor}
    assert rows[cookie_visitor] == 1
    # Refusals are not views.
    assert client.get("/api/v1/products/999999").status_code == 404
    assert sum(VisitorDay.objects.values_list("product_views", flat=True)) == 2


def test_tracking_can_be_switched_off(settings):
    settings.TRAFFIC_TRACKING = False
    reply = Client().get("/")
    assert COOKIE not in reply.cookies
    assert not VisitorDay.objects.exists()


def test_a_cart_add_counts_from_htmx_too_but_not_when_refused():
    product = make_product(stock=1)
    buyer = make_buyer()
    client = Client()
    client.force_login(buyer)
    client.get("/")
    sku = product.skus.get()
    added = client.post("/cart/add/", {"sku": sku.pk, "qty": 1}, HTTP_HX_REQUEST="true")
    assert "已加入购物车" in added.content.decode()
    refused = client.post("/cart/add/", {"sku": sku.pk, "qty": 5}, HTTP_HX_REQUEST="true")
    assert "已加入购物车" not in refused.content.decode()
    client.post("/cart/add/", {"sku": 999999, "qty": 1})  # no such SKU
    api = api_for(buyer)
    assert api.post("/cart/lines", {"sku_id": 999999, "quantity": 1}).status_code in (400, 404, 409)
    assert sum(VisitorDay.objects.values_list("cart_adds", flat=True)) == 1
