"""A page shared from WeChat's own menu: an active distributor's product page carries
`?ref=<code>`; whoever opens it goes through the referral link /r/<code>, then the page."""

from urllib.parse import parse_qs, urlsplit

from django.test import Client

from fenxiao.distribution.models import Touch
from fenxiao.distribution.views import REFERRAL_COOKIE
from fenxiao.testing import login

from .helpers import bound_buyer, current_distributor, make_distributor


def test_a_shared_page_address_refers_like_the_referral_link(db, lamp):
    seller = make_distributor()
    code = seller.referral_code
    page = f"/products/{lamp.pk}/"

    landing = Client().get(f"{page}?sku=1&ref={code.lower()}")
    assert (
        landing.status_code == 302
        and landing["Location"] == f"/r/{code}?to=%2Fproducts%2F{lamp.pk}%2F%3Fsku%3D1"
    )
    visitor = Client()
    reply = visitor.get(f"{page}?ref={code}", follow=True)
    assert reply.status_code == 200 and reply.redirect_chain[-1][0] == page
    assert visitor.cookies[REFERRAL_COOKIE].value.startswith(code)

    buyer = bound_buyer()
    assert login(buyer).get(f"{page}?ref={code}", follow=True).status_code == 200
    assert current_distributor(buyer) == seller


def test_only_an_active_distributor_page_carries_the_code_and_their_own_visit_is_no_touch(db, lamp):
    seller = make_distributor()
    page = f"/products/{lamp.pk}/"
    mine = login(seller.user)
    assert f'data-share-ref="{seller.referral_code}"' in mine.get(page).content.decode()
    touches = Touch.objects.count()
    assert mine.get(f"{page}?ref={seller.referral_code}", follow=True).status_code == 200
    assert Touch.objects.count() == touches  # reloading their own shared page
    assert "data-share-ref" not in login(bound_buyer()).get(page).content.decode()


def test_a_bad_code_or_another_area_is_left_alone(db, lamp):
    client = Client()
    assert client.get(f"/products/{lamp.pk}/?ref=%3Cscript%3E")["Location"] == f"/products/{lamp.pk}/"
    assert client.get(f"/products/{lamp.pk}/?ref=ABCDEFGHIJKLMNOP")["Location"] == f"/products/{lamp.pk}/"
    assert client.get("/api/v1/products?ref=ABC").status_code == 200
    assert client.get(f"/products/{lamp.pk}/?ref=NOSUCHCODE", follow=True).status_code == 200


def test_the_page_to_go_back_to_never_leaves_the_site(db, rf):
    from django.contrib.auth.models import AnonymousUser

    from fenxiao.distribution.middleware import ShareLinkMiddleware

    middleware = ShareLinkMiddleware(lambda request: None)
    for code in ("NOSUCH", "<bad>"):
        for path, expected in (("//evil.example/", "/"), ("/a?b/", "/a%3Fb/")):
            request = rf.get("/", {"ref": code})
            request.path = path
            request.user = AnonymousUser()
            location = urlsplit(middleware(request)["Location"])
            # Through the referral link (which checks `to` again) or straight back.
            back = parse_qs(location.query)["to"][0] if location.path.startswith("/r/") else location.path
            assert back == expected, (code, path)
