"""The backend speaks Chinese on the pages a merchant sees first, and never shows a password
hash."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from fenxiao.testing import make_buyer, make_staff

pytestmark = pytest.mark.django_db

ENGLISH_LEFTOVERS = [
    "Welcome back to",
    "Return to site",
    "Search apps and models",
    "Raw passwords are not stored",
    "change the password using this form",
    "Can add ",
    "Can change ",
    "Can delete ",
    "Can view ",
    "Type to search",
    "Log in",
]
HASH_MARKS = ["pbkdf2", "md5$", "argon2", "bcrypt", "algorithm:"]


def assert_no_leftovers(body: str):
    for text in ENGLISH_LEFTOVERS + HASH_MARKS:
        assert text not in body, text


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def test_login_page_is_chinese(client):
    body = client.get("/backend/login/").content.decode()
    assert "欢迎回到" in body and "返回商城" in body
    assert_no_leftovers(body)


def test_changelist_search_is_chinese(boss):
    make_buyer("13912345678")
    body = boss.get(reverse("admin:customers_user_changelist"), {"q": "139"}).content.decode()
    assert "搜索功能和数据" in body and "13912345678" in body
    assert_no_leftovers(body)


def test_user_page_shows_a_reset_link_instead_of_the_password_hash(boss):
    user = make_buyer("13912345678")
    user.set_password("Buyer#2026")
    user.save()
    assert user.password.startswith(("pbkdf2", "md5", "argon2"))
    page = boss.get(reverse("admin:customers_user_change", args=[user.pk]))
    body = page.content.decode()
    assert user.password not in body and user.password.split("$")[-1] not in body
    reset = reverse("admin:auth_user_password_change", args=[user.pk])
    assert f'href="{reset}"' in body and "重置密码" in body
    assert 'aria-label="商品 新增"' in body  # the individual permissions' table, in Chinese
    assert_no_leftovers(body)

    # The reset page sets a new password; the page never needs the old one.
    reply = boss.post(reset, {"password1": "New#Pass2026x", "password2": "New#Pass2026x"})
    assert reply.status_code == 302
    user.refresh_from_db()
    assert user.check_password("New#Pass2026x")

    # Saving the user page without a password field keeps the password.
    reply = boss.post(
        reverse("admin:customers_user_change", args=[user.pk]),
        {
            "username": user.username,
            "phone": user.phone,
            "nickname": "小王",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
        },
    )
    assert reply.status_code == 302
    user.refresh_from_db()
    assert user.nickname == "小王" and user.check_password("New#Pass2026x")


def test_role_page_lists_permissions_in_chinese(boss):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="财务")
    body = boss.get(reverse("admin:auth_group_change", args=[group.pk])).content.decode()
    assert re.search(r'aria-label="提现 修改" checked', body)
    assert_no_leftovers(body)


def test_the_two_box_selector_is_chinese(boss):
    body = boss.get("/backend/jsi18n/").content.decode()
    for chinese in ("全选%s", "移除全部%s"):
        assert json.dumps(chinese) in body, chinese


def test_view_only_staff_see_no_reset_link():
    from django.contrib.auth.models import Group

    viewer = make_staff("ops")
    viewer.groups.add(Group.objects.get(name="运营"))
    client = Client()
    client.force_login(viewer)
    user = make_staff("cw", perms=["distribution.change_withdrawal"])
    body = client.get(reverse("admin:customers_user_change", args=[user.pk])).content.decode()
    assert "重置密码" not in body and user.password not in body
    # Their own grants as the table of pages, ticked and disabled (no Django "Can …" lines).
    assert 'aria-label="提现 修改" checked disabled' in body and "Can change" not in body
    assert_no_leftovers(body)
