"""The catalog's backend pages in English when the merchant chose it, Chinese by default."""

import pytest
from django.utils.html import escape

from fenxiao.testing import (
    backend_content,
    chinese_left,
    in_english,
    login,
    make_category,
    make_product,
    make_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


@pytest.fixture
def shelf():
    clothing = make_category("Clothing")
    make_category("Shirts", parent=clothing)
    on_sale = make_product(
        "Cotton T-shirt", category=clothing, specs_list=[{"Color": "Red"}, {"Color": "Blue"}]
    )
    make_product("Linen shirt", category=clothing, stock=0)
    make_product("Wool coat", category=clothing, listed=False)
    return on_sale


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_product_list_in_english(boss, shelf):
    body = page(in_english(boss), "/backend/catalog/product/")
    assert chinese_left(backend_content(body)) == []
    assert "On sale" in body and "Sold out" in body and "In warehouse" in body
    assert "Import products" in body


def test_product_editor_in_english_loads_the_script_catalog(boss, shelf):
    body = page(in_english(boss), f"/backend/catalog/product/{shelf.pk}/change/")
    assert chinese_left(backend_content(body)) == []
    assert "Specs and stock" in body and "+ Add images" in body
    catalog = body.index('src="/jsi18n/"')
    assert catalog < body.index("catalog/editor/spec_matrix.js")
    assert catalog < body.index("catalog/editor/gallery.js")
    assert catalog < body.index("catalog/editor/rich_text.js")
    script = boss.get("/jsi18n/").content.decode()
    assert "Set for all" in script and "Bold" in script


def test_new_product_form_in_english(boss, shelf):
    body = page(in_english(boss), "/backend/catalog/product/add/")
    assert chinese_left(backend_content(body)) == []
    assert "Basic information" in body


def test_category_list_in_english(boss, shelf):
    body = page(in_english(boss), "/backend/catalog/category/")
    assert chinese_left(backend_content(body)) == []
    assert "Category name" in body


def test_product_import_page_in_english(boss, shelf):
    from fenxiao.catalog.services import product_import_columns as spec

    body = page(in_english(boss), "/backend/catalog/product/import/")
    # The template's columns and rules describe the import file, whose headers stay Chinese.
    data = [*spec.NOTES, *(c.header for c in spec.COLUMNS), *(c.note for c in spec.COLUMNS)]
    data += [escape(c.example) for c in spec.COLUMNS if c.example]
    assert chinese_left(backend_content(body), *data) == []
    assert "Step 1: download the template and fill in your products" in body


def test_the_backend_stays_chinese_by_default(boss, shelf):
    body = page(boss, "/backend/catalog/product/")
    assert "出售中" in body and "导入商品" in body
    editor = page(boss, f"/backend/catalog/product/{shelf.pk}/change/")
    assert "规格与库存" in editor and 'src="/jsi18n/"' not in editor


def test_change_category_page_in_english(boss, shelf):
    reply = in_english(boss).post(
        "/backend/catalog/product/", {"action": "move_category", "_selected_action": [shelf.pk]}
    )
    assert reply.status_code == 200
    body = reply.content.decode()
    assert chinese_left(backend_content(body)) == []
    assert "Move to category" in body and "Clothing: 1" in body


def test_blocked_category_delete_page_in_english(boss, shelf):
    make_category("Coats", parent=shelf.category)
    body = page(in_english(boss), f"/backend/catalog/category/{shelf.category_id}/delete/")
    assert chinese_left(backend_content(body)) == []
    assert "cannot be deleted yet" in body and "Open these products" in body
    assert "sub-categories: Shirts, Coats" in body


def test_stock_warning_list_in_english(boss, shelf):
    body = page(in_english(boss), "/backend/catalog/product/?is_listed__exact=1&stock_below=1000")
    assert chinese_left(backend_content(body)) == []
    assert "Red: 100" in body
