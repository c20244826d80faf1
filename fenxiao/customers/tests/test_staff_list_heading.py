"""The sidebar's 员工 opens the account list filtered to staff: that page is headed 员工 (tab
员工列表, trail 客户与账号 › 员工, "Staff" in English), and its "N 条结果 (显示全部)", shown only
when a search narrows it, leads back to every staff account, never to buyers. The list of
every account keeps its 用户 heading."""

import re

import pytest
from django.urls import reverse

from fenxiao.testing import english_backend_page, in_english, login, make_buyer, make_staff

pytestmark = pytest.mark.django_db

USERS = reverse("admin:customers_user_changelist")
STAFF = f"{USERS}?is_staff__exact=1"


def tab(html: str) -> str:
    return " ".join(re.search(r"<title>(.*?)</title>", html, re.S).group(1).split())


def heading(html: str) -> str:
    """The header's trail and count, as text."""
    h1 = re.search(r"<h1\b.*?</h1>", html, re.S).group(0)
    h1 = re.sub(r'<span class="material-symbols-outlined[^"]*">[^<]*</span>', " ", h1)
    return " ".join(re.sub(r"<[^>]+>", " ", h1).split())


@pytest.fixture
def boss():
    make_buyer("13800000001", nickname="阿梅")
    make_staff("yunying")
    return login(make_staff("boss", superuser=True))


def test_the_staff_list_is_headed_staff_and_show_all_stays_on_staff(boss):
    page = boss.get(STAFF).content.decode()
    assert tab(page).startswith("员工列表 |")
    assert heading(page) == "客户与账号 员工"  # the whole staff list: no count to undo
    assert f'href="{STAFF}"' in page

    searched = boss.get(f"{STAFF}&q=yunying").content.decode()
    assert tab(searched).startswith("员工列表 |")
    assert heading(searched) == "客户与账号 员工 1 条结果 ( 显示全部 )"
    show_all = re.search(r'<h1\b.*?\(<a href="([^"]*)">', searched, re.S).group(1)
    assert show_all == STAFF.replace("&", "&amp;")
    assert "13800000001" not in boss.get(show_all.replace("&amp;", "&")).content.decode()


def test_the_list_of_every_account_keeps_its_heading(boss):
    page = boss.get(USERS).content.decode()
    assert tab(page).startswith("用户列表 |")
    assert heading(page) == "客户与账号 用户"
    buyers = boss.get(USERS, {"is_staff__exact": 0}).content.decode()
    assert tab(buyers).startswith("用户列表 |") and heading(buyers).startswith("客户与账号 用户 ")


def test_the_staff_list_reads_staff_in_english(boss):
    # The ready-made roles' names are stored group names, shown as they are.
    page = english_backend_page(boss, STAFF, "运营", "财务")
    assert tab(page).startswith("Staff |")
    assert heading(page) == "Customers and accounts Staff"
    searched = in_english(boss).get(f"{STAFF}&q=yunying").content.decode()
    assert heading(searched) == "Customers and accounts Staff 1 result ( Show all )"
