"""上架状态 on the product list: 已上架 or 仓库中, a filter of the list. The dashboard's 库存预警
opens the list with ?is_listed__exact=1&stock_below=N; the list shows 已上架 as chosen next to
库存低于 N, and 清除所有筛选 clears it too (as a bare lookup it narrowed the list unseen, and
clearing kept it)."""

from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from fenxiao.catalog.models import Sku
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db

LIST = reverse("admin:catalog_product_changelist")
WARNING = {"is_listed__exact": "1", "stock_below": "10"}


@pytest.fixture
def boss():
    return login(make_staff(superuser=True))


@pytest.fixture
def shelf():
    return {
        "listed": make_product("在售低库存", stock=3),
        "sold_out": make_product("已售罄", stock=0),
        "warehouse": make_product("仓库低库存", stock=2, listed=False),
        "plenty": make_product("库存充足", stock=80),
    }


def shown(reply) -> set[str]:
    assert reply.status_code == 200
    return {p.name for p in reply.context["cl"].result_list}


def chosen(reply, parameter) -> list[str]:
    cl = reply.context["cl"]
    spec = next(f for f in cl.filter_specs if parameter in f.expected_parameters())
    return [str(choice["display"]) for choice in spec.choices(cl) if choice["selected"]]


def test_the_stock_warning_link_shows_listed_as_a_chosen_filter(boss, shelf):
    reply = boss.get(LIST, WARNING)

    assert shown(reply) == {"在售低库存", "已售罄"}
    cl = reply.context["cl"]
    assert cl.has_active_filters
    spec = next(f for f in cl.filter_specs if f.parameter_name == "is_listed__exact")
    assert str(spec.title) == "上架状态"
    assert chosen(reply, "is_listed__exact") == ["已上架"]
    assert "上架状态" in reply.content.decode()


def test_clearing_every_filter_clears_listed_too(boss, shelf):
    reply = boss.get(LIST, WARNING)
    cleared = parse_qs(reply.context["cl"].clear_all_filters_qs.lstrip("?"))
    assert "is_listed__exact" not in cleared and "stock_below" not in cleared
    # 全部 under 上架状态 drops only that filter.
    every = next(c for c in reply.context["cl"].filter_specs if c.parameter_name == "is_listed__exact")
    everything = next(c for c in every.choices(reply.context["cl"]) if str(c["display"]) == "全部")
    assert parse_qs(everything["query_string"].lstrip("?")) == {"stock_below": ["10"]}
    assert shown(boss.get(LIST, {"stock_below": "10"})) == {"在售低库存", "已售罄", "仓库低库存"}


def test_the_filter_narrows_to_listed_or_warehouse_and_ignores_anything_else(boss, shelf):
    assert shown(boss.get(LIST, {"is_listed__exact": "1"})) == {"在售低库存", "已售罄", "库存充足"}
    assert shown(boss.get(LIST, {"is_listed__exact": "0"})) == {"仓库低库存"}
    assert chosen(boss.get(LIST, {"is_listed__exact": "0"}), "is_listed__exact") == ["仓库中"]
    assert len(shown(boss.get(LIST, {"is_listed__exact": "yes"}))) == 4


def test_the_tabs_count_within_the_filter(boss, shelf):
    Sku.objects.filter(product=shelf["plenty"]).update(stock=1)
    tabs = {t["key"]: t["count"] for t in boss.get(LIST, WARNING).context["cl"].product_tabs}
    assert tabs == {"all": 3, "on_sale": 2, "sold_out": 1, "warehouse": 0}


def test_the_filter_in_english(boss, shelf):
    from fenxiao.testing import in_english

    body = in_english(boss).get(LIST, WARNING).content.decode()
    assert "Listing status" in body and 'title="Listed"' in body
    assert "上架状态" not in body and "已上架" not in body


def test_applying_the_filter_panel_resends_every_chosen_choice(boss, shelf):
    # The panel is a form: a choice not resent would be dropped by 应用筛选.
    category = shelf["listed"].category_id
    body = boss.get(LIST, {**WARNING, "category__id__exact": category}).content.decode()
    assert '<input type="hidden" name="is_listed__exact" value="1"' in body
    assert f'<input type="hidden" name="category__id__exact" value="{category}"' in body
