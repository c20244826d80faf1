"""A distributor shares a coupon (SPEC: every touch — link, QR, store, coupon — is kept with
the rule that won): the coupon's page opens through their referral link, the visit is a
touch of source 优惠券 that the binding rules decide, and the buyer claims the coupon there."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.analytics.models import VisitorDay
from fenxiao.customers.models import CustomerFigures, RegistrationSource
from fenxiao.customers.services import figures
from fenxiao.distribution.models import CustomerBinding, Touch, TouchDecision, TouchSource
from fenxiao.distribution.services import sharing
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.promotions.models import BuyerCoupon
from fenxiao.promotions.tests.factories import make_coupon
from fenxiao.testing import api_for, login, make_buyer, make_category, make_product

pytestmark = pytest.mark.django_db

SITE = "https://shop.example.com"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def coupon():
    return make_coupon(amount=2000, min_spend=10000, name="满100减20", per_buyer_limit=1)


def test_a_distributor_shares_a_coupon_from_the_coupon_center(coupon, monkeypatch):
    distributor = make_distributor()
    client = login(distributor.user)
    center = client.get("/coupons/").content.decode()
    assert f'href="/d/share/?coupon={coupon.pk}"' in center
    page = client.get(f"/d/share/?coupon={coupon.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    link = f"{SITE}/r/{distributor.referral_code}?to=%2Fcoupons%2F{coupon.pk}%2F&amp;src=coupon"
    assert link in html and "满100减20" in html
    assert f"送你一张优惠券【满100减20】满¥100.00减¥20.00，点击领取：{link}" in html
    assert f"/d/share/qr.png?path=/coupons/{coupon.pk}/&amp;src=coupon" in html
    # Its QR code refers as the coupon does; a plain QR code stays 二维码.
    encoded = []
    monkeypatch.setattr(sharing, "qr_png", lambda url: encoded.append(url) or b"\x89PNG")
    client.get("/d/share/qr.png", {"path": f"/coupons/{coupon.pk}/", "src": "coupon"})
    client.get("/d/share/qr.png", {"path": "/"})
    assert encoded == [
        f"{SITE}/r/{distributor.referral_code}?to=%2Fcoupons%2F{coupon.pk}%2F&src=coupon",
        f"{SITE}/r/{distributor.referral_code}?to=%2F&src=qr",
    ]
    # A buyer who is no distributor is offered no sharing; a coupon that cannot be claimed
    # is not shared.
    assert "/d/share/?coupon=" not in login(make_buyer()).get("/coupons/").content.decode()
    gone = make_coupon(amount=500, name="已结束", valid_until=timezone.now() - timedelta(days=1))
    assert client.get(f"/d/share/?coupon={gone.pk}").status_code == 404


def test_a_signed_in_buyer_who_opens_the_coupon_is_bound_by_a_coupon_touch_and_claims_it(coupon):
    distributor = make_distributor()
    buyer = make_buyer()
    client = login(buyer)
    reply = client.get(f"/r/{distributor.referral_code}", {"to": f"/coupons/{coupon.pk}/", "src": "coupon"})
    assert reply.status_code == 302 and reply["Location"] == f"/coupons/{coupon.pk}/"
    touch = Touch.objects.get(buyer=buyer)
    assert touch.source == TouchSource.COUPON and touch.decision == TouchDecision.BOUND
    assert touch.get_source_display() == "优惠券"
    binding = CustomerBinding.objects.get(buyer=buyer)
    assert binding.distributor == distributor and binding.source == TouchSource.COUPON

    page = client.get(f"/coupons/{coupon.pk}/").content.decode()
    assert "满100减20" in page and f'action="/coupons/{coupon.pk}/claim/"' in page
    claimed = client.post(f"/coupons/{coupon.pk}/claim/", {"next": f"/coupons/{coupon.pk}/"})
    assert claimed.status_code == 302 and claimed["Location"] == f"/coupons/{coupon.pk}/"
    assert BuyerCoupon.objects.filter(buyer=buyer, coupon=coupon).count() == 1
    assert "已领取" in client.get(f"/coupons/{coupon.pk}/").content.decode()


def test_a_visitor_signs_in_on_the_coupon_page_and_is_bound_with_the_coupon_as_source(coupon, settings):
    settings.TRAFFIC_TRACKING = True
    distributor = make_distributor()
    make_buyer("13900000066", password="Secret#2026")
    browser = Client()
    browser.get(f"/r/{distributor.referral_code}", {"to": f"/coupons/{coupon.pk}/", "src": "coupon"})
    assert browser.cookies["fx_ref"].value.startswith(
        f"{distributor.referral_code}:coupon:%2Fcoupons%2F{coupon.pk}%2F:"
    )
    # Claiming signed out asks for a sign-in, then comes back to the coupon.
    asked = browser.post(f"/coupons/{coupon.pk}/claim/", {"next": f"/coupons/{coupon.pk}/"})
    assert asked.status_code == 302 and asked["Location"].startswith("/login/")
    browser.post("/login/", {"phone": "13900000066", "password": "Secret#2026"})
    touch = Touch.objects.get(buyer__phone="13900000066")
    assert touch.source == TouchSource.COUPON and touch.decision == TouchDecision.BOUND
    # The decided touch says which coupon brought them.
    assert touch.target == f"/coupons/{coupon.pk}/"
    assert VisitorDay.objects.get(distributor=distributor).source == "coupon"


def test_a_buyer_registered_through_a_shared_coupon_counts_it_as_their_source(coupon):
    distributor = make_distributor()
    buyer = make_buyer()
    login(buyer).get(f"/r/{distributor.referral_code}", {"to": f"/coupons/{coupon.pk}/", "src": "coupon"})
    figures.add_new_buyers()
    row = CustomerFigures.objects.get(user=buyer)
    assert row.source == RegistrationSource.COUPON and row.source_distributor_id == distributor.pk


def test_an_app_binds_with_a_coupon_it_was_shared(coupon):
    distributor = make_distributor()
    buyer = make_buyer()
    reply = api_for(buyer).post("/distribution/bind", {"code": distributor.referral_code, "source": "coupon"})
    assert reply.status_code == 200, reply.content
    assert Touch.objects.get(buyer=buyer).source == TouchSource.COUPON


def test_the_coupon_page_says_where_to_use_it_and_when_it_is_gone():
    tea = make_product("普洱", price=9900)
    only_tea = make_coupon(amount=1000, name="普洱专享", scope="products", products=[tea])
    drinks = make_category("茶饮")
    category = make_coupon(amount=500, name="茶饮券", scope="categories", categories=[drinks])
    client = Client()
    assert (
        f'href="/products/{tea.pk}/" data-testid="use-coupon"'
        in client.get(f"/coupons/{only_tea.pk}/").content.decode()
    )
    assert f'href="/categories/?c={drinks.pk}"' in client.get(f"/coupons/{category.pk}/").content.decode()
    only_tea.is_active = False
    only_tea.save(update_fields=["is_active"])
    gone = client.get(f"/coupons/{only_tea.pk}/")
    assert gone.status_code == 404 and "这张优惠券已领完或活动已结束" in gone.content.decode()
    assert client.get("/coupons/999999/").status_code == 404


def test_a_forged_landing_page_in_the_cookie_is_not_kept():
    distributor = make_distributor()
    make_buyer("13900000067", password="Secret#2026")
    browser = Client()
    browser.cookies["fx_ref"] = f"{distributor.referral_code}:coupon:%2F%2Fevil.example%2F"
    browser.post("/login/", {"phone": "13900000067", "password": "Secret#2026"})
    touch = Touch.objects.get(buyer__phone="13900000067")
    assert touch.source == TouchSource.COUPON and touch.target == ""


def test_a_product_shared_during_its_flash_sale_carries_the_flash_price(monkeypatch):
    from fenxiao.promotions.tests.factories import make_flash

    scarf = make_product("羊绒围巾", price=19900, list_price=25900)
    make_flash(scarf, price=12900, quota=50)
    almost_over = make_product("羊毛手套", price=9900)
    make_flash(almost_over, price=5900, quota=50, hours=1.05)  # began an hour ago, three minutes left
    distributor = make_distributor()
    client = login(distributor.user)
    html = client.get(f"/d/share/?product={scarf.pk}").content.decode()
    # Struck through as the product page strikes it in the sale: the SKU's regular price.
    assert '<span class="price">¥129.00</span>' in html and "仅需 ¥129.00（原价 ¥199.00）" in html
    drawn = []
    real = sharing.poster_png
    monkeypatch.setattr(sharing, "poster_png", lambda *args, **kw: drawn.append(kw) or real(*args, **kw))
    poster = client.get(f"/d/share/poster/{scarf.pk}.png")
    assert poster.status_code == 200 and poster.content[:4] == b"\x89PNG"
    assert drawn == [{"price": 12900, "was": 19900}]
    assert poster["Cache-Control"] == "private, max-age=600"
    glove = client.get(f"/d/share/poster/{almost_over.pk}.png")["Cache-Control"]
    assert 0 < int(glove.split("max-age=")[1]) <= 180
