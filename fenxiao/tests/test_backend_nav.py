"""The curated backend sidebar (fenxiao/backend_nav.py) lists the merchant's pages in their
groups, each entry only for staff who may open it: the store pages (门店码与导购, 导购, 收银,
门店设置), 销售额阶梯奖励 and 商城余额流水 are there, not only under "all applications"."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db

# (group, title, changelist) of the entries that were missing from the sidebar.
ADDED = [
    ("门店", "门店码与导购", "admin:stores_storeqr_changelist"),
    ("门店", "门店员工（导购）", "admin:stores_storestaff_changelist"),
    ("门店", "门店销售", "admin:stores_offlinesale_changelist"),
    ("门店", "收银系统密钥", "admin:stores_posapikey_changelist"),
    ("门店", "门店设置", "admin:stores_storesettings_changelist"),
    ("分销", "销售额阶梯奖励", "admin:distribution_salestier_changelist"),
    ("客户", "商城余额流水", "admin:customers_walletentry_changelist"),
    ("营销", "买家优惠券", "admin:promotions_buyercoupon_changelist"),
]


def sidebar(client) -> dict[str, list[tuple[str, str]]]:
    """{group title: [(entry title, link)]} as the curated sidebar shows them (the "all
    applications" list is left out)."""
    body = client.get(reverse("admin:index")).content.decode()
    nav = body[body.index('id="nav-sidebar-apps"') : body.index('id="content"')]
    groups = {}
    for block in re.split(r"(?=<h2 class=\"font-semibold flex)", nav)[1:]:
        title = re.match(r"<h2[^>]*>\s*([^<]*?)\s*<", block).group(1)
        groups[title] = [
            (name.strip(), href)
            for href, name in re.findall(
                r'<a href="([^"]+)" class="flex h-\[38px\][^"]*">.*?<span>([^<]*)</span>', block, re.S
            )
        ]
    return groups


def role(name: str):
    ensure_staff_groups()
    user = make_staff(name)
    user.groups.add(Group.objects.get(name=name))
    return login(user)


def test_the_superuser_finds_every_store_page_and_the_sales_tiers_in_their_groups():
    boss = login(make_staff("boss", superuser=True))
    groups = sidebar(boss)
    for group, title, changelist in ADDED:
        assert (title, reverse(changelist)) in groups[group], (group, title)
        assert boss.get(reverse(changelist), follow=True).status_code == 200, title


def test_entries_show_only_to_staff_who_may_open_them():
    clerk = make_staff("clerk", perms=["stores.view_posapikey", "stores.view_offlinesale"])
    groups = sidebar(login(clerk))
    assert [title for title, _link in groups["门店"]] == ["门店销售", "收银系统密钥"]
    assert groups["分销"] == []  # a group with nothing to open shows no entry (and is hidden)

    operations = sidebar(role(OPERATIONS))
    store_titles = {title for title, _link in operations["门店"]}
    assert {"门店码与导购", "门店员工（导购）", "门店销售", "收银系统密钥", "门店设置"} <= store_titles
    assert "销售额阶梯奖励" in {title for title, _link in operations["分销"]}
    finance = sidebar(role(FINANCE))
    assert finance["门店"] == []
    assert "销售额阶梯奖励" in {title for title, _link in finance["分销"]}  # read-only for finance


def test_operations_open_the_store_qr_page_they_see():
    client = role(OPERATIONS)
    assert client.get(reverse("admin:stores_storeqr_changelist")).status_code == 200


def test_the_wallet_entries_show_to_staff_who_may_read_wallets():
    wallet = ("商城余额流水", reverse("admin:customers_walletentry_changelist"))
    for name in (OPERATIONS, FINANCE):  # both roles read wallets (and the profile's panel)
        customers = sidebar(role(name))["客户"]
        assert (
            customers[-1] == wallet and ("客户", reverse("admin:customers_customer_changelist")) in customers
        )
    reader = make_staff("wallets", perms=["customers.view_walletentry"])
    assert sidebar(login(reader))["客户"] == [wallet]
    crm = make_staff("crm", perms=["customers.view_customer"])
    assert wallet not in sidebar(login(crm))["客户"]
