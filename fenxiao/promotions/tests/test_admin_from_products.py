"""营销 from the product list: ticking products and choosing 为所选商品创建限时折扣 (拼团, 满减,
优惠券) opens the new form with those products in it — one 活动商品 row each, or the
指定商品 scope — and saving it makes a promotion of exactly those products."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.promotions.admin import product_actions
from fenxiao.promotions.models import Promotion, PromotionKind
from fenxiao.testing import make_product, make_staff

from .test_admin_add_form import form_data

pytestmark = pytest.mark.django_db

PRODUCT_LIST = "/backend/catalog/product/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def boss() -> Client:
    return client_for(make_staff("boss", superuser=True))


def run_action(client, name, products):
    return client.post(
        PRODUCT_LIST, {"action": name, "_selected_action": [p.pk for p in products], "index": "0"}
    )


def preset(response) -> dict:
    parts = urlsplit(response["Location"])
    return {"path": parts.path, **{k: v[0] for k, v in parse_qs(parts.query).items()}}


def item_rows(page) -> list:
    (inline,) = page.context["inline_admin_formsets"]
    return [form.initial.get("product") for form in inline.formset.forms]


def test_flash_sale_for_two_products_opens_with_a_row_each(boss):
    tea, cup, _other = make_product("龙井礼盒"), make_product("青瓷杯"), make_product("茶盘")
    response = run_action(boss, "create_flash_for_selected", [cup, tea])
    assert response.status_code == 302
    assert preset(response) == {
        "path": "/backend/promotions/promotion/add/",
        "kind": "flash",
        "products": f"{tea.pk},{cup.pk}",
    }
    page = boss.get(response["Location"])
    assert page.status_code == 200
    assert item_rows(page) == [tea.pk, cup.pk]
    html = page.content.decode()
    assert "龙井礼盒" in html and "青瓷杯" in html and "茶盘" not in html


def test_the_preset_rows_save_as_one_promotion_of_those_products(boss):
    tea, cup = make_product("龙井礼盒"), make_product("青瓷杯")
    url = run_action(boss, "create_flash_for_selected", [tea, cup])["Location"]
    starts_at = timezone.now() + timedelta(hours=1)
    data = form_data(
        tea,
        starts_at,
        **{
            "items-TOTAL_FORMS": "2",
            "items-0-discount_bp": "20",
            "items-0-price": "",
            "items-1-product": str(cup.pk),
            "items-1-discount_bp": "20",
        },
    )
    response = boss.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    promotion = Promotion.objects.get()
    assert promotion.kind == PromotionKind.FLASH
    assert sorted((i.product_id, i.discount_bp) for i in promotion.items.all()) == [
        (tea.pk, 2000),
        (cup.pk, 2000),
    ]


def test_a_posted_form_keeps_its_own_rows_not_the_preset(boss):
    # The merchant removed one preset row before saving: only the row posted is saved.
    tea, cup = make_product("龙井礼盒"), make_product("青瓷杯")
    url = run_action(boss, "create_flash_for_selected", [tea, cup])["Location"]
    response = boss.post(url, form_data(cup, timezone.now() + timedelta(hours=1)))
    assert response.status_code == 302
    assert [i.product_id for i in Promotion.objects.get().items.all()] == [cup.pk]


def test_group_buy_opens_with_a_row_per_product(boss):
    tea = make_product("龙井礼盒")
    response = run_action(boss, "create_group_for_selected", [tea])
    assert preset(response)["kind"] == "group"
    assert item_rows(boss.get(response["Location"])) == [tea.pk]


def test_spend_and_coupon_open_with_the_products_as_their_scope(boss):
    tea, cup = make_product("龙井礼盒"), make_product("青瓷杯")
    for name, path, kind in (
        ("create_spend_for_selected", "/backend/promotions/promotion/add/", "spend"),
        ("create_coupon_for_selected", "/backend/promotions/coupon/add/", None),
    ):
        response = run_action(boss, name, [tea, cup])
        found = preset(response)
        assert (found["path"], found.get("kind"), found["scope"]) == (path, kind, "products")
        form = boss.get(response["Location"]).context["adminform"].form
        assert form.initial["scope"] == "products"
        assert form.initial["products"] == [str(tea.pk), str(cup.pk)]


def test_at_most_the_limit_of_products_is_carried(boss, monkeypatch):
    monkeypatch.setattr(product_actions, "PRESET_LIMIT", 2)
    products = [make_product(f"商品{i}") for i in range(3)]
    response = run_action(boss, "create_flash_for_selected", products)
    assert preset(response)["products"] == f"{products[0].pk},{products[1].pk}"
    page = boss.get(response["Location"], follow=True)
    assert "一次最多带入 2 个商品，已带入前 2 个" in page.content.decode()
    assert item_rows(page) == [products[0].pk, products[1].pk]


def test_ids_that_are_no_numbers_are_left_out_of_the_rows(boss):
    tea = make_product("龙井礼盒")
    page = boss.get(f"/backend/promotions/promotion/add/?kind=flash&products=abc,{tea.pk},-1,%EF%BC%91")
    assert page.status_code == 200
    assert item_rows(page) == [tea.pk]


def test_staff_who_may_not_create_promotions_are_not_offered_the_actions():
    clerk = client_for(make_staff("clerk", perms=["catalog.view_product", "catalog.change_product"]))
    page = clerk.get(PRODUCT_LIST)
    offered = dict(page.context["action_form"].fields["action"].choices)
    assert "list_selected" in offered
    assert not {n for n in offered if n.startswith("create_")}
    tea = make_product("龙井礼盒")
    response = run_action(clerk, "create_flash_for_selected", [tea])
    assert "Location" not in response or "/promotions/" not in response["Location"]
    assert not Promotion.objects.exists()


def test_coupon_staff_are_offered_the_coupon_action_only():
    marketer = client_for(make_staff("mkt", perms=["catalog.view_product", "promotions.add_coupon"]))
    offered = dict(marketer.get(PRODUCT_LIST).context["action_form"].fields["action"].choices)
    assert "create_coupon_for_selected" in offered
    assert "create_flash_for_selected" not in offered


def test_a_preset_row_left_without_a_price_is_refused_not_dropped(boss):
    # Saving with one preset row still bare must say so, not save a sale without that
    # product as if the merchant had removed it.
    tea, cup = make_product("龙井礼盒"), make_product("青瓷杯")
    url = run_action(boss, "create_flash_for_selected", [tea, cup])["Location"]
    data = form_data(
        tea, timezone.now() + timedelta(hours=1), **{"items-TOTAL_FORMS": "2", "items-1-product": str(cup.pk)}
    )
    response = boss.post(url, data)
    assert response.status_code == 200
    assert not Promotion.objects.exists()
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.errors[1] or inline.formset.non_form_errors()
