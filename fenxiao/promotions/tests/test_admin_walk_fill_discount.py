"""A merchant's weekly flash sale of dozens of products picked from the product list: each
row shows the product's 售价 (so a price is set knowingly), and one 统一立减比例 typed once
fills every row left without a price or a rate, while rows priced by hand keep their price."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fenxiao.promotions.models import Promotion, PromotionKind
from fenxiao.testing import login, make_product, make_staff

from .test_admin_add_form import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def add_url(kind="flash", products=()):
    url = reverse("admin:promotions_promotion_add") + f"?kind={kind}"
    return url + (f"&products={','.join(str(p.pk) for p in products)}" if products else "")


def rows_posted(products, **rows) -> dict:
    data = {"items-TOTAL_FORMS": str(len(products)), "items-0-price": ""}
    for i, product in enumerate(products):
        data[f"items-{i}-product"] = str(product.pk)
    return {**data, **rows}


def test_each_preset_row_shows_the_products_price_in_one_query(boss):
    # The rows' product pickers read their chosen products in one query (core's
    # _ChosenObjects), and the prices in one more, whatever the number of rows.
    few = [make_product(price=8900), make_product(price=3399)]
    many = few + [make_product(price=1000 + i) for i in range(8)]

    boss.get(add_url(products=few))  # caches (content types) filled
    with CaptureQueriesContext(connection) as two:
        page = boss.get(add_url(products=few))
    with CaptureQueriesContext(connection) as ten:
        boss.get(add_url(products=many))
    html = page.content.decode()
    assert "<th" in html and "售价" in html
    assert "¥89.00" in html and "¥33.99" in html
    assert len(ten) == len(two)


def test_one_rate_fills_the_rows_left_blank_and_spares_the_priced_ones(boss):
    tea, cup, pot = make_product(price=8900), make_product(price=3900), make_product(price=12900)
    starts_at = timezone.now() + timedelta(hours=1)
    data = form_data(
        tea, starts_at, fill_discount="20", **rows_posted([tea, cup, pot], **{"items-1-price": "29.90"})
    )
    response = boss.post(add_url(), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    promotion = Promotion.objects.get()
    assert {i.product_id: (i.price, i.discount_bp) for i in promotion.items.all()} == {
        tea.pk: (None, 2000),
        cup.pk: (2990, None),
        pot.pk: (None, 2000),
    }


def test_without_the_rate_a_blank_row_is_still_refused(boss):
    tea, cup = make_product(), make_product()
    data = form_data(tea, timezone.now() + timedelta(hours=1), **rows_posted([tea, cup]))
    page = boss.post(add_url(), data).content.decode()
    assert "请填写活动价或折扣比例（二选一）" in page and not Promotion.objects.exists()


@pytest.mark.parametrize(
    ("typed", "error"),
    [("0", "比例不能小于 0.01 %"), ("100", "比例不能大于 99.99 %"), ("八折", "请输入百分比")],
)
def test_a_rate_out_of_range_is_refused_in_chinese(boss, typed, error):
    tea = make_product()
    data = form_data(tea, timezone.now() + timedelta(hours=1), fill_discount=typed, **rows_posted([tea]))
    response = boss.post(add_url(), data)
    assert response.status_code == 200 and error in response.content.decode()
    assert not Promotion.objects.exists()


def test_group_buys_offer_the_rate_and_spend_promotions_do_not(boss):
    assert 'name="fill_discount"' in boss.get(add_url("group")).content.decode()
    assert 'name="fill_discount"' not in boss.get(add_url("spend")).content.decode()


def test_an_existing_promotions_blank_new_row_takes_the_rate(boss):
    tea, cup = make_product(price=8900), make_product(price=3900)
    boss.post(add_url(), form_data(tea, timezone.now() + timedelta(hours=1)))
    promotion = Promotion.objects.get(kind=PromotionKind.FLASH)
    item = promotion.items.get()
    data = form_data(
        tea,
        timezone.now() + timedelta(hours=1),
        fill_discount="15",
        **{
            "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "1",
            "items-0-id": str(item.pk),
            "items-0-promotion": str(promotion.pk),
            "items-1-product": str(cup.pk),
        },
    )
    response = boss.post(reverse("admin:promotions_promotion_change", args=[promotion.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert {i.product_id: (i.price, i.discount_bp) for i in promotion.items.all()} == {
        tea.pk: (5900, None),
        cup.pk: (None, 1500),
    }


def saved_flash_sale(boss, products) -> Promotion:
    data = form_data(
        products[0], timezone.now() + timedelta(hours=1), fill_discount="20", **rows_posted(products)
    )
    response = boss.post(add_url(), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Promotion.objects.latest("id")


def test_a_saved_sales_rows_show_their_products_in_one_query(boss):
    """Each row's picker shows its own product, chosen; the rows' products are read in one
    query, so a sale of 6 products opens in as many queries as one of 2."""
    small = saved_flash_sale(boss, [make_product(f"小{i}", price=1000) for i in range(2)])
    large_products = [make_product(f"大{i}", price=1000) for i in range(6)]
    large = saved_flash_sale(boss, large_products)
    url = reverse("admin:promotions_promotion_change", args=[small.pk])
    boss.get(url)
    with CaptureQueriesContext(connection) as two:
        boss.get(url)
    with CaptureQueriesContext(connection) as six:
        page = boss.get(reverse("admin:promotions_promotion_change", args=[large.pk])).content.decode()
    for i, product in enumerate(large_products):
        assert re.search(
            rf'name="items-{i}-product"[^>]*>\s*(<option value="">[^<]*</option>\s*)?'
            rf'<option value="{product.pk}" selected>大{i}</option>',
            page,
        ), i
    assert len(six) == len(two)
