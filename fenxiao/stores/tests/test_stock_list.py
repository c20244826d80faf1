"""门店库存 across every store: filtered to what ran out (门店缺货) or what is there (有货),
each row opening its store's 门店库存 page at that SKU, where levels are set (the list was
read-only with nowhere to go)."""

import re

import pytest

from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db

URL = "/backend/stores/storestock/"


@pytest.fixture
def shelves():
    tea = make_product("龙井", stock=30).skus.get()
    cup = make_product("茶杯", stock=30).skus.get()
    lake = make_store("湖滨店", stock={tea.pk: 0, cup.pk: 4})
    road = make_store("文三路店", stock={tea.pk: 6})
    return {"tea": tea, "cup": cup, "lake": lake, "road": road}


def rows(html: str) -> list[str]:
    body = html[html.index("<tbody") : html.rindex("</tbody>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr")[1:]]


def test_the_list_narrows_to_what_ran_out_or_is_there(shelves):
    client = login(make_staff(superuser=True))
    out = rows(client.get(URL, {"level": "out"}).content.decode())
    assert len(out) == 1 and "湖滨店" in out[0] and "龙井" in out[0]
    there = rows(client.get(URL, {"level": "in"}).content.decode())
    assert sorted(("湖滨店" in r, "茶杯" in r) for r in there) == [(False, False), (True, True)]
    assert len(rows(client.get(URL).content.decode())) == 3


def test_each_row_opens_its_store_page_at_the_sku(shelves):
    client = login(make_staff(superuser=True))
    html = client.get(URL, {"level": "out"}).content.decode()
    link = f'href="/backend/stores/store/{shelves["lake"].pk}/stock/?q={shelves["tea"].code}"'
    assert link in html
    page = client.get(f"/backend/stores/store/{shelves['lake'].pk}/stock/?q={shelves['tea'].code}")
    assert page.status_code == 200 and "龙井" in page.content.decode()


def test_without_the_right_to_open_stores_the_row_is_plain_text(shelves):
    client = login(make_staff(perms=["stores.view_storestock"]))
    html = client.get(URL).content.decode()
    assert "龙井" in html and "/stock/?q=" not in html


def test_a_rows_own_page_names_the_goods_and_only_shows_them(shelves):
    """A row's page had 保存 buttons that saved nothing and a raw SKU id in its title."""
    row = shelves["lake"].stock.get(sku=shelves["tea"])
    page = login(make_staff(superuser=True)).get(f"{URL}{row.pk}/change/").content.decode()
    assert "湖滨店 · 龙井" in page and f"湖滨店 {shelves['tea'].pk}:" not in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert f"/backend/stores/store/{shelves['lake'].pk}/stock/?q=" in page  # where it is set


def test_the_list_reads_a_fixed_number_of_queries(shelves, django_assert_max_num_queries):
    for i in range(6):
        sku = make_product(f"茶{i}", stock=5).skus.get()
        make_store(f"店{i}", stock={sku.pk: i})
    client = login(make_staff(superuser=True))
    with django_assert_max_num_queries(10):
        page = client.get(URL)
    assert page.status_code == 200 and len(rows(page.content.decode())) == 9
