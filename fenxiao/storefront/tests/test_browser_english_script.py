"""What app.js writes into a page speaks the visitor's language: in English, the stock of the
SKU picked on the product page and "copied" on a copy button come from Django's JavaScript
catalog; in Chinese (no catalog loaded) they read as before."""

import pytest
from django.conf import settings
from django.test import Client

from fenxiao.distribution.services import distributors
from fenxiao.testing import make_buyer, make_category, make_product, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in_phone(phones, live_server, user, name, language=None):
    """A phone whose browser carries `user`'s session (and the language they chose)."""
    client = Client()
    client.force_login(user)
    phone = phones(name)
    cookies = [
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    ]
    if language:
        cookies.append({"name": settings.LANGUAGE_COOKIE_NAME, "value": language})
    phone.context.add_cookies([{**cookie, "url": live_server.url} for cookie in cookies])
    return phone


def test_script_written_texts_follow_the_language(phones, live_server):
    product = make_product(
        "Cotton shirt",
        category=make_category("Clothing"),
        price=9900,
        stock=12,
        specs_list=[{"Colour": "White"}, {"Colour": "Blue"}],
    )
    user = make_buyer(nickname="Dana")
    distributors.designate(user, make_staff())

    english = signed_in_phone(phones, live_server, user, "english-script", language="en")
    page = english.page
    page.goto(f"/products/{product.pk}/")
    page.locator("label", has_text="Blue").first.click()
    page.locator("[data-sku-stock]").get_by_text("12 in stock").wait_for()
    page.goto("/d/")
    page.get_by_role("button", name="Copy").click()
    page.get_by_role("button", name="Copied").wait_for()
    english.shot("copied")

    chinese = signed_in_phone(phones, live_server, user, "chinese-script")
    page = chinese.page
    page.goto(f"/products/{product.pk}/")
    page.locator("label", has_text="Blue").first.click()
    page.locator("[data-sku-stock]").get_by_text("库存 12 件").wait_for()
    page.goto("/d/")
    page.get_by_role("button", name="复制").click()
    page.get_by_role("button", name="已复制").wait_for()
