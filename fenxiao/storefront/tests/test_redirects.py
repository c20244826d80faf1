"""Open redirects: the cashier's return address and home-page banner links stay on safe ground."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from fenxiao.distribution.tests.helpers import place
from fenxiao.payments.models import Payment
from fenxiao.storefront.models import Banner
from fenxiao.testing import api_for, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db


def _order():
    buyer = make_buyer()
    order = place(buyer, (make_product(price=1000).skus.get(), 1))
    return api_for(buyer), order


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nLocation: https://evil.example/",
    ],
)
def test_pay_refuses_a_return_url_off_this_site(url):
    client, order = _order()
    reply = client.post(f"/orders/{order.number}/pay", {"gateway": "sandbox", "return_url": url})
    assert reply.status_code == 422, reply.content
    assert reply.json()["code"] == "INVALID_INPUT"
    assert not Payment.objects.exists()


def test_pay_with_a_site_path_returns_the_buyer_there():
    client, order = _order()
    back = f"/orders/{order.number}/result/"
    reply = client.post(f"/orders/{order.number}/pay", {"gateway": "sandbox", "return_url": back})
    assert reply.status_code == 200, reply.content
    cashier = reply.json()["pay_url"].replace("http://testserver", "")
    done = Client().post(cashier, {"action": "pay"})
    assert done.status_code == 302
    assert done["Location"] == back


@pytest.mark.parametrize(
    "link", ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil.example"]
)
def test_banner_refuses_script_and_foreign_scheme_links(link):
    with pytest.raises(ValidationError):
        Banner(title="活动", link=link).full_clean()


@pytest.mark.parametrize("link", ["/products/12/", "/search/?q=T恤", "https://example.com/promo"])
def test_banner_accepts_site_paths_and_web_addresses(link):
    Banner(title="活动", link=link).full_clean()


def test_banner_admin_form_refuses_a_javascript_link():
    client = Client()
    client.force_login(make_staff("ops", superuser=True))
    reply = client.post(
        "/backend/storefront/banner/add/",
        {
            "title": "活动",
            "link": "javascript:alert(1)",
            "color": "#e4393c",
            "sort_order": 0,
            "is_active": "on",
        },
    )
    assert reply.status_code == 200
    assert "链接只能是站内地址" in reply.content.decode()
    assert not Banner.objects.exists()


def test_a_bad_banner_row_still_renders_a_harmless_link():
    Banner.objects.create(
        title="旧活动", link="javascript:alert(1)", color="red;x:"
    )  # fits the column, still not a colour
    page = Client().get("/").content.decode()
    assert "旧活动" in page
    assert "javascript:" not in page
    assert "red;x:" not in page


def test_the_payment_service_itself_refuses_a_foreign_return_url():
    from fenxiao.core.errors import DomainError
    from fenxiao.payments.services.payments import start_payment

    _, order = _order()
    with pytest.raises(DomainError) as refused:
        start_payment(order, "sandbox", return_url="https://evil.example/")
    assert refused.value.code == "PAYMENT_NOT_ALLOWED"
    assert not Payment.objects.exists()


def test_the_cashier_never_redirects_off_site_even_for_an_old_stored_address():
    from fenxiao.payments.models import SandboxTrade

    client, order = _order()
    reply = client.post(f"/orders/{order.number}/pay", {"gateway": "sandbox", "return_url": "/ok/"})
    cashier = reply.json()["pay_url"].replace("http://testserver", "")
    SandboxTrade.objects.update(return_url="https://evil.example/")  # written before validation existed
    done = Client().post(cashier, {"action": "pay"})
    assert done.status_code == 200
    assert "evil.example" not in done.get("Location", "")
