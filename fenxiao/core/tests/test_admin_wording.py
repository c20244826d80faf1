"""The backend's page titles and save messages read as Chinese does. Django's own catalog
writes them for an English model name — 增加 商品, 选择 商品 来修改, 成功修改了 商品“…”。你可以
在下面再次编辑它 — which a merchant sees on every save."""

import re

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from fenxiao.catalog.models import Category
from fenxiao.testing import in_english, login, make_buyer, make_category, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def backend():
    return login(make_staff(superuser=True))


def title(reply) -> str:
    html = reply.content.decode()
    return html[html.index("<title>") + 7 : html.index("</title>")].strip()


def test_titles_name_the_page_without_spaces(backend):
    category = make_category("茶饮")
    assert title(backend.get(reverse("admin:catalog_category_changelist"))).startswith("商品分类列表 |")
    assert title(backend.get(reverse("admin:catalog_category_add"))).startswith("新增商品分类 |")
    assert "修改商品分类 |" in title(
        backend.get(reverse("admin:catalog_category_change", args=[category.pk]))
    )


def test_saving_says_what_was_saved(backend):
    reply = backend.post(
        reverse("admin:catalog_category_add"),
        {"name": "茶饮", "sort_order": 0, "_continue": "1"},
        follow=True,
    )
    assert Category.objects.filter(name="茶饮").exists()
    said = [strip_tags(str(m)) for m in reply.context["messages"]]
    assert said == ["商品分类“茶饮”已添加。 可在下方继续编辑。"]

    category = Category.objects.get(name="茶饮")
    reply = backend.post(
        reverse("admin:catalog_category_change", args=[category.pk]),
        {"name": "花茶", "sort_order": 0},
        follow=True,
    )
    said = [strip_tags(str(m)) for m in reply.context["messages"]]
    assert said == ["商品分类“花茶”已保存。"]


def test_an_app_page_is_named_without_a_space(backend):
    reply = backend.get(reverse("admin:app_list", args=["shipping"]))
    assert title(reply).startswith("物流管理 |")


def test_adding_another_row_reads_as_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert (
            translation.gettext("Add another %(verbose_name)s") % {"verbose_name": "活动商品"}
            == "再添加一个活动商品"
        )
        assert translation.gettext("Add another %(model)s") % {"model": "商品"} == "新增商品"


def heading(html: str) -> str:
    """The title line at the top of a list: its name, and the count while narrowed."""
    start = html.index("<h1")
    return " ".join(strip_tags(html[start : html.index("</h1>", start)]).split())


def test_a_list_counts_its_rows_in_chinese_and_says_show_all_only_when_narrowed(backend):
    for phone in ("13900000001", "13900000002", "13900000003"):
        make_buyer(phone)
    url = reverse("admin:customers_customer_changelist")  # a list that skips the full count

    whole = backend.get(url).content.decode()
    assert "条结果" not in heading(whole) and "显示全部" not in whole
    assert "共 3 条" in strip_tags(whole) and "3 客户" not in strip_tags(whole)

    narrowed = backend.get(url, {"q": "13900000001"}).content.decode()
    assert heading(narrowed).endswith("1 条结果 (显示全部)")
    assert "共 1 条" in strip_tags(narrowed)


def test_a_list_is_titled_by_its_name_in_english_too(backend):
    english = in_english(backend)
    assert title(english.get(reverse("admin:catalog_category_changelist"))).startswith(
        "Product category list |"
    )
    assert title(english.get(reverse("admin:stores_storestaff_changelist"))).startswith("Store staff list |")


def test_the_row_count_in_english(backend):
    make_buyer("13900000001")
    make_buyer("13900000002")
    page = in_english(backend).get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "2 rows" in strip_tags(page) and "共" not in strip_tags(page)


def test_a_name_with_its_avatar_stays_on_one_line_in_a_wide_list(backend):
    make_buyer("13900000001", nickname="阿杰在路上")
    page = backend.get(reverse("admin:customers_customer_changelist")).content.decode()
    name = re.search(r'<strong class="([^"]*)" title="阿杰在路上">阿杰在路上</strong>', page)
    assert name and {"whitespace-nowrap", "truncate"} <= set(name[1].split())
    avatar = re.search(r'<span class="([^"]*)">\s*阿\s*</span>', page)
    assert avatar and "shrink-0" in avatar[1].split()
    assert "{#" not in page and "kept on one line" not in page
