"""An empty backend list says which kind of empty it is: nothing matches the search or the
filters (重置筛选 offered), or nothing exists yet (新增 offered where staff may add, else the
list's own hint on where its records come from) — never "create a new item" on a list where
nothing can be created, nor 重置筛选 where nothing was filtered."""

import pytest
from django.urls import reverse

from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def empty_box(client, url) -> str:
    html = client.get(url).content.decode()
    start = html.index("data-empty-list")
    return html[start : html.index("</div>\n</div>", start)]


def test_a_read_only_list_with_nothing_yet_says_where_its_records_come_from(boss):
    box = empty_box(boss, reverse("admin:stores_offlinesale_changelist"))
    assert "还没有门店销售" in box and "收银系统接入后" in box
    assert "新增" not in box and "重置筛选" not in box


def test_a_list_staff_may_add_to_offers_the_first_one(boss):
    box = empty_box(boss, reverse("admin:stores_store_changelist"))
    assert "还没有门店" in box and "新增门店" in box and "重置筛选" not in box


def test_a_search_that_finds_nothing_offers_to_reset(boss):
    box = empty_box(boss, reverse("admin:stores_store_changelist") + "?q=不存在的门店")
    assert "没有符合条件的记录" in box and "重置筛选" in box


def test_a_filter_that_finds_nothing_offers_to_reset(boss):
    box = empty_box(boss, reverse("admin:stores_store_changelist") + "?is_open__exact=0")
    assert "没有符合条件的记录" in box and "重置筛选" in box


def test_an_empty_job_list_says_what_queues_there(boss):
    """It read 还没有任务中心 ("no task centre yet"), the menu's name for the list."""
    box = empty_box(boss, reverse("admin:core_job_changelist"))
    assert "还没有任务" in box and "还没有任务中心" not in box and "导出、导入和批量修改" in box
