"""门店报表 of a shop with no store (or no staff) says so and offers the step that fills it
(新增门店, 添加员工): it said 所选时间范围内没有数据 and offered 查看近30天, which can never
bring a store. Other reports' empty tables keep offering a longer range."""

import re

import pytest

from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def section(html: str, key: str) -> str:
    return re.search(rf'data-report="{key}">.*?</section>', html, re.S).group(0)


def test_no_store_yet_leads_to_adding_one(boss):
    html = boss.get("/backend/data/stores/?range=7d").content.decode()
    stores = section(html, "stores-overview")
    assert "还没有门店：新增门店后" in stores and "所选时间范围内没有数据" not in stores
    assert 'href="/backend/stores/store/add/"' in stores and "data-wider" not in stores
    guides = section(html, "stores-guides")
    assert "还没有门店员工" in guides and 'href="/backend/stores/storestaff/add/"' in guides


def test_a_store_without_staff_leads_to_adding_staff(boss):
    make_store("湖滨店")
    html = boss.get("/backend/data/stores/?range=7d").content.decode()
    assert "湖滨店" in section(html, "stores-overview")
    assert 'href="/backend/stores/storestaff/add/"' in section(html, "stores-guides")


def test_in_english_too(boss):
    boss.cookies["django_language"] = "en"
    html = boss.get("/backend/data/stores/?range=7d").content.decode()
    assert "No stores yet" in html and "Add store" in html and "No store staff yet" in html


def test_other_empty_reports_still_offer_a_longer_range(boss):
    html = boss.get("/backend/data/sales/?range=7d").content.decode()
    assert "所选时间范围内没有数据" in html and "data-wider" in html
