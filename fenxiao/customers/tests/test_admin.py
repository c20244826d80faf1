"""The merchant backend for buyers, staff accounts and staff roles."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from fenxiao.customers.models import User
from fenxiao.customers.services.staff import FINANCE, OPERATIONS
from fenxiao.orders.services.checkout import place_order
from fenxiao.testing import login, make_address, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

USERS = "/backend/customers/user/"
NO_ADDRESSES = {"addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0"}


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def test_user_pages_open_and_buyers_are_found_by_phone(boss):
    buyer = make_buyer("13912345678", nickname="小王")
    make_address(buyer, recipient="王小明", detail="人民路 8 号")
    make_buyer("13800000001")
    listing = boss.get(USERS)
    assert listing.status_code == 200
    found = boss.get(USERS, {"q": "13912345678"}).content.decode()
    assert "13912345678" in found and "13800000001" not in found
    assert "13912345678" in boss.get(USERS, {"q": "小王"}).content.decode()
    for query in (
        {"is_staff__exact": "1"},
        {"groups__id__exact": "1"},
        {"o": "2"},
        {"q": "%' OR 1=1"},
        {"groups__id__exact": "x"},
    ):
        assert boss.get(USERS, query, follow=True).status_code == 200
    page = boss.get(reverse("admin:customers_user_change", args=[buyer.pk])).content.decode()
    assert "王小明" in page and "人民路 8 号" in page
    assert boss.get(reverse("admin:customers_user_add")).status_code == 200
    assert boss.get(f"{USERS}{buyer.pk}/password/").status_code == 200


def test_staff_roles_exist_and_open(boss):
    roles = Group.objects.filter(name__in=[OPERATIONS, FINANCE])
    assert roles.count() == 2
    body = boss.get(reverse("admin:auth_group_changelist")).content.decode()
    assert OPERATIONS in body and FINANCE in body
    for role in roles:
        assert boss.get(reverse("admin:auth_group_change", args=[role.pk])).status_code == 200


def test_create_staff_member_with_role(boss):
    """A colleague is added ready to log in: 员工状态 ticked by default and the roles chosen
    on the same page (it took a second visit to the account's page to do either)."""
    page = boss.get(reverse("admin:customers_user_add")).content.decode()
    assert re.search(r'<input type="checkbox" name="is_staff"[^>]* checked', page)
    operations = Group.objects.get(name=OPERATIONS)
    response = boss.post(
        reverse("admin:customers_user_add"),
        {
            "username": "xiaoli",
            "phone": "13700002222",
            "nickname": "小李",
            "password1": "Strong#Pass2026",
            "password2": "Strong#Pass2026",
            "is_staff": "on",
            "groups": [str(operations.pk)],
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="xiaoli")
    assert (user.phone, user.nickname, user.is_staff) == ("13700002222", "小李", True)
    assert list(user.groups.all()) == [operations]
    assert user.has_perm("orders.change_order") and not user.has_perm("payments.view_refund")


def test_only_a_superuser_adds_an_account_with_powers():
    manager = login(make_staff(perms=["customers.view_user", "customers.add_user", "customers.change_user"]))
    operations = Group.objects.get(name=OPERATIONS)
    page = manager.get(reverse("admin:customers_user_add"))
    assert page.status_code == 200 and 'name="username"' in (page := page.content.decode())
    assert 'name="is_staff"' not in page and 'name="groups"' not in page
    response = manager.post(
        reverse("admin:customers_user_add"),
        {
            "username": "xiaowu",
            "password1": "Strong#Pass2026",
            "password2": "Strong#Pass2026",
            "is_staff": "on",
            "groups": [str(operations.pk)],
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="xiaowu")
    assert not user.is_staff and not user.groups.exists()


def test_a_preset_role_shows_its_boxes_without_offering_them(boss):
    operations = Group.objects.get(name=OPERATIONS)
    held = set(operations.permissions.all())
    page = boss.get(reverse("admin:auth_group_change", args=[operations.pk])).content.decode()
    assert re.search(r'aria-label="订单 修改" checked disabled', page)
    boss.post(reverse("admin:auth_group_change", args=[operations.pk]), {"name": "改名", "permissions": []})
    operations.refresh_from_db()
    assert operations.name == OPERATIONS and set(operations.permissions.all()) == held


@pytest.mark.parametrize("phone", ["12345", "23912345678", "139123456789"])
def test_bad_phone_is_a_form_error(boss, phone):
    response = boss.post(
        reverse("admin:customers_user_add"),
        {"username": "bad", "phone": phone, "password1": "Strong#Pass2026", "password2": "Strong#Pass2026"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="bad").exists()


def test_second_staff_without_phone_is_fine(boss):
    for name in ("a1", "a2"):
        response = boss.post(
            reverse("admin:customers_user_add"),
            {"username": name, "phone": "", "password1": "Strong#Pass2026", "password2": "Strong#Pass2026"},
        )
        assert response.status_code == 302
    assert User.objects.filter(username__in=["a1", "a2"], phone__isnull=True).count() == 2


def test_only_a_superuser_hands_out_powers():
    manager = make_staff(perms=["customers.view_user", "customers.change_user"])
    client = login(manager)
    target = make_buyer()
    response = client.post(
        reverse("admin:customers_user_change", args=[target.pk]),
        {
            "username": target.username,
            "phone": target.phone,
            "nickname": "新昵称",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            **NO_ADDRESSES,
        },
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.nickname == "新昵称"
    assert not target.is_superuser and not target.is_staff


def test_roles_see_what_they_should():
    product = make_product()
    buyer = make_buyer()
    order = place_order(buyer, [(product.skus.get().pk, 1)], address_id=make_address(buyer).pk)
    ops = make_staff()
    ops.groups.add(Group.objects.get(name=OPERATIONS))
    finance = make_staff()
    finance.groups.add(Group.objects.get(name=FINANCE))
    ops_client, finance_client = login(ops), login(finance)
    order_page = reverse("admin:orders_order_change", args=[order.pk])
    for client in (ops_client, finance_client):
        assert client.get(reverse("admin:orders_order_changelist")).status_code == 200
        assert client.get(order_page).status_code == 200
    assert ops_client.get(reverse("admin:catalog_product_add")).status_code == 200
    assert finance_client.get(reverse("admin:catalog_product_add")).status_code == 403
    assert finance_client.get(reverse("admin:payments_refund_changelist")).status_code == 200
    assert ops_client.get(reverse("admin:payments_refund_changelist")).status_code == 403
    # Operations may change order prices; finance may not.
    assert ops_client.get(f"/backend/orders/order/{order.pk}/adjust/").status_code == 200
    assert finance_client.get(f"/backend/orders/order/{order.pk}/adjust/").status_code == 403
