"""The 导出 menu belongs to a backend list: a page an action answers with from the list (a
confirmation, a batch form) shows none, since it would export the whole list, not what
was ticked."""

import pytest
from django.urls import reverse

from fenxiao.promotions.tests.factories import make_flash
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def test_the_list_offers_the_menu(boss):
    page = boss.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert 'id="list-export"' in page


def running_sale():
    return make_flash(make_product(), price=100)


@pytest.mark.parametrize(
    "url_name, action, make",
    [
        ("admin:catalog_product_changelist", "batch_price_stock", make_product),
        ("admin:promotions_promotion_changelist", "end_selected", running_sale),
    ],
)
def test_an_action_page_offers_no_export(boss, url_name, action, make):
    ticked = make()
    page = boss.post(reverse(url_name), {"action": action, "index": "0", "_selected_action": [ticked.pk]})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="list-export"' not in html
