"""员工角色 and a staff member's 单独授权 as a table: a row per backend page with boxes for
查看 / 新增 / 修改 / 删除, and the special permissions by their names. Django's picker listed
~500 "app | model | action" lines in a four-line box and named every report permission
alike (数据 | 每日销售 | 查看), so a merchant could not tell 销售报表 from 门店报表."""

import html
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.testing import in_english, login, make_staff

pytestmark = pytest.mark.django_db


def perm(label: str) -> Permission:
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def boxes(html: str) -> dict[str, bool]:
    """The page's permission boxes: {permission id: ticked}."""
    found = re.findall(
        r'<input type="checkbox" name="(?:permissions|user_permissions)" value="(\d+)"([^>]*)>', html
    )
    return {pk: rest.rstrip().endswith(" checked") for pk, rest in found}


def test_the_reports_read_by_their_own_names(boss):
    html = boss.get(reverse("admin:auth_group_add")).content.decode()
    for name in (
        "查看销售报表",
        "查看分销报表",
        "查看流量报表",
        "查看门店报表",
        "核销自提订单",
        "可查看客户完整手机号",
    ):
        assert name in html, name
    assert "数据 | 每日销售 | 查看" not in html
    assert 'aria-label="订单 修改"' in html and 'aria-label="提现 修改"' in html


def test_tables_no_page_shows_are_not_offered(boss):
    offered = boxes(boss.get(reverse("admin:auth_group_add")).content.decode())
    for hidden in (
        "admin.view_logentry",
        "sessions.view_session",
        "auth.add_permission",
        "customers.view_smscode",
    ):
        assert str(perm(hidden).pk) not in offered, hidden
    assert str(perm("catalog.change_product").pk) in offered


def test_a_role_saves_its_boxes_and_keeps_what_it_held_unseen(boss):
    role = Group.objects.create(name="客服")
    unseen = perm("customers.view_smscode")
    role.permissions.add(unseen, perm("catalog.delete_product"))
    chosen = [perm("orders.view_order"), perm("orders.view_aftersale"), perm("analytics.view_sales_report")]
    forged = perm("customers.add_smscode")  # not on the page: never granted by a post

    reply = boss.post(
        reverse("admin:auth_group_change", args=[role.pk]),
        {"name": "客服", "permissions": [p.pk for p in [*chosen, forged]]},
    )

    assert reply.status_code == 302, reply.content.decode()[:3000]
    assert set(role.permissions.all()) == {*chosen, unseen}


def test_the_role_page_ticks_what_the_role_holds(boss):
    role = Group.objects.create(name="客服")
    role.permissions.add(perm("orders.view_order"), perm("analytics.view_stores_report"))
    ticked = {
        pk
        for pk, on in boxes(
            boss.get(reverse("admin:auth_group_change", args=[role.pk])).content.decode()
        ).items()
        if on
    }
    assert ticked == {str(perm("orders.view_order").pk), str(perm("analytics.view_stores_report").pk)}


def test_a_staff_member_gets_roles_by_box_and_grants_in_the_same_table(boss):
    cs = Group.objects.create(name="客服")
    person = make_staff("xiaomei")
    html = boss.get(reverse("admin:customers_user_change", args=[person.pk])).content.decode()
    assert f'name="groups" value="{cs.pk}"' in html  # a box per role, not the two-list picker
    assert "收货地址" not in html  # a staff account that never bought has no address table

    reply = boss.post(
        reverse("admin:customers_user_change", args=[person.pk]),
        {
            "username": person.username,
            "nickname": "小美",
            "is_active": "on",
            "is_staff": "on",
            "groups": [cs.pk],
            "user_permissions": [perm("stores.verify_pickup").pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert reply.status_code == 302, reply.content.decode()[:3000]
    person.refresh_from_db()
    assert list(person.groups.all()) == [cs]
    assert list(person.user_permissions.all()) == [perm("stores.verify_pickup")]
    assert person.has_perm("stores.verify_pickup")


def shown_boxes(html: str, name: str) -> dict[str, bool]:
    """The read-only table's boxes: {permission id: ticked}, each one disabled."""
    found = re.findall(rf'<input type="checkbox" name="{name}" value="(\d+)"([^>]*)>', html)
    assert found and all(rest.rstrip().endswith(" disabled") for _pk, rest in found)
    return {pk: rest.rstrip().endswith(" checked disabled") for pk, rest in found}


def test_a_staff_member_who_may_only_look_reads_the_role_as_the_table():
    role = Group.objects.create(name="客服")
    role.permissions.add(perm("orders.view_order"), perm("analytics.view_stores_report"))
    viewer = login(make_staff("viewer", perms=["auth.view_group"]))

    html = viewer.get(reverse("admin:auth_group_change", args=[role.pk])).content.decode()

    ticked = {pk for pk, on in shown_boxes(html, "permissions_shown").items() if on}
    assert ticked == {str(perm("orders.view_order").pk), str(perm("analytics.view_stores_report").pk)}
    assert "查看门店报表" in html
    assert "Can view" not in html and "| 订单 |" not in html


def test_a_manager_reads_a_colleagues_own_grants_as_the_table():
    person = make_staff("xiaomei")
    person.user_permissions.add(perm("stores.verify_pickup"))
    manager = login(make_staff("manager", perms=["customers.view_user", "customers.change_user"]))

    html = manager.get(reverse("admin:customers_user_change", args=[person.pk])).content.decode()

    ticked = {pk for pk, on in shown_boxes(html, "user_permissions_shown").items() if on}
    assert ticked == {str(perm("stores.verify_pickup").pk)}
    assert 'name="user_permissions"' not in html  # nothing a manager could post back
    assert "Can " not in html and "核销自提订单" in html


def test_a_preset_role_cannot_be_deleted_a_shop_role_can(boss):
    ensure_staff_groups()
    operations = Group.objects.get(name=OPERATIONS)
    own = Group.objects.create(name="客服")
    change_page = boss.get(reverse("admin:auth_group_change", args=[operations.pk])).content.decode()
    assert reverse("admin:auth_group_delete", args=[operations.pk]) not in change_page
    delete_page = reverse("admin:auth_group_delete", args=[operations.pk])
    assert boss.post(delete_page, {"post": "yes"}).status_code == 403

    changelist = reverse("admin:auth_group_changelist")
    refused = boss.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [operations.pk, own.pk], "post": "yes"},
        follow=True,
    ).content.decode()

    assert "预置角色不能删除：运营" in refused
    assert Group.objects.filter(pk__in=[operations.pk, own.pk]).count() == 2
    boss.post(changelist, {"action": "delete_selected", "_selected_action": [own.pk], "post": "yes"})
    assert not Group.objects.filter(pk=own.pk).exists()


SPECIAL_NAMES = {
    "查看销售报表": "View sales report",
    "查看分销报表": "View distribution report",
    "查看流量报表": "View traffic report",
    "查看门店报表": "View store report",
    "可查看客户完整手机号": "View customers' full phone numbers",
    "核销自提订单": "Verify pickup orders",
}


def test_the_special_permissions_read_in_english_too(boss):
    page = html.unescape(in_english(boss).get(reverse("admin:auth_group_add")).content.decode())
    for chinese, english in SPECIAL_NAMES.items():
        assert english in page and chinese not in page, chinese
