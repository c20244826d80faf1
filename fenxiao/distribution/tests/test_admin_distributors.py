"""The backend's distributors and customer bindings: review, status, grade and parent
changes, designation, and reassigning a buyer with a reason."""

import pytest
from django.urls import reverse

from fenxiao.distribution.models import (
    CustomerBinding,
    Distributor,
    Touch,
)
from fenxiao.distribution.services import (
    distributors,
)
from fenxiao.testing import make_buyer

from .backend import list_url, texts, url

pytestmark = pytest.mark.django_db


# --- 分销商 ---------------------------------------------------------------------------------


def test_approve_and_reject_pending_distributors(staff, boss):
    first = distributors.apply(make_buyer(), real_name="张三")
    second = distributors.apply(make_buyer(), real_name="李四")
    assert first.status == second.status == "pending"

    reply = boss.post(url(first, "approve"), {"_confirm": "1"})
    assert reply.status_code == 302
    first.refresh_from_db()
    assert first.status == "active" and first.reviewed_by == staff

    reply = boss.post(url(second, "reject"), {"reason": ""})
    assert reply.status_code == 200  # the reason is required
    second.refresh_from_db()
    assert second.status == "pending"
    reply = boss.post(url(second, "reject"), {"reason": "资料不全"})
    assert reply.status_code == 302
    second.refresh_from_db()
    assert (second.status, second.reject_reason) == ("rejected", "资料不全")

    # Approving one already active is refused with the service's message.
    reply = boss.post(url(first, "approve"), {"_confirm": "1"})
    assert reply.status_code == 200
    assert "当前状态“正常”不能变为“正常”" in texts(reply)


def test_bulk_reject_asks_for_a_reason_first(boss):
    people = [distributors.apply(make_buyer(), real_name=f"申请人{n}") for n in "甲乙"]
    ids = [str(d.pk) for d in people]
    reply = boss.post(
        list_url(Distributor), {"action": "reject_selected", "index": "0", "_selected_action": ids}
    )
    assert reply.status_code == 200
    assert "拒绝分销商申请" in reply.content.decode()
    assert set(Distributor.objects.values_list("status", flat=True)) == {"pending"}
    reply = boss.post(
        list_url(Distributor),
        {
            "action": "reject_selected",
            "_confirm": "1",
            "select_across": "0",
            "_selected_action": ids,
            "reason": "不符合条件",
        },
    )
    assert reply.status_code == 302
    assert set(Distributor.objects.values_list("reject_reason", flat=True)) == {"不符合条件"}

    reply = boss.post(
        list_url(Distributor), {"action": "approve_selected", "index": "0", "_selected_action": ids}
    )
    assert reply.status_code == 302
    assert set(Distributor.objects.values_list("status", flat=True)) == {"active"}


def test_status_grade_and_parent_changes(world, boss):
    a, b = world["a"], world["b"]
    assert boss.post(url(b, "suspend"), {"reason": "违规推广"}).status_code == 302
    b.refresh_from_db()
    assert (b.status, b.status_reason) == ("suspended", "违规推广")
    assert boss.post(url(b, "reactivate"), {"reason": ""}).status_code == 302
    b.refresh_from_db()
    assert b.status == "active"

    assert boss.post(url(b, "change_grade"), {"grade": world["gold"].pk}).status_code == 302
    b.refresh_from_db()
    assert b.grade == world["gold"]

    # a is b's parent: making b a's parent would close a loop.
    reply = boss.post(url(a, "change_parent"), {"parent": b.referral_code})
    assert reply.status_code == 200
    assert "不能形成循环的上下级关系" in reply.content.decode()
    a.refresh_from_db()
    assert a.parent_id is None
    assert boss.post(url(b, "change_parent"), {"parent": ""}).status_code == 302
    b.refresh_from_db()
    assert b.parent_id is None

    assert boss.post(url(b, "ban"), {"reason": "刷单", "decision": "void"}).status_code == 302
    b.refresh_from_db()
    assert b.status == "banned"


def test_designate_a_user_from_the_add_button(world, boss):
    assert boss.get(list_url(Distributor, "add"))["Location"] == reverse(
        "admin:distribution_distributor_designate"
    )
    user = make_buyer("13700000009")
    reply = boss.post(
        reverse("admin:distribution_distributor_designate"),
        {"user": "13700000009", "parent": world["a"].referral_code, "grade": world["gold"].pk},
    )
    assert reply.status_code == 302
    made = Distributor.objects.get(user=user)
    assert (made.status, made.source, made.parent, made.grade) == (
        "active",
        "designated",
        world["a"],
        world["gold"],
    )
    reply = boss.post(reverse("admin:distribution_distributor_designate"), {"user": "1000"})
    assert "找不到该用户" in reply.content.decode()


# --- 客户关系 -------------------------------------------------------------------------------


def test_reassign_binding_with_reason_records_a_manual_touch(world, staff, boss):
    current = CustomerBinding.objects.get(buyer=world["buyer"])
    reply = boss.post(url(current, "reassign"), {"distributor": world["a"].referral_code, "reason": ""})
    assert reply.status_code == 200
    current.refresh_from_db()
    assert current.distributor == world["b"]

    reply = boss.post(
        url(current, "reassign"), {"distributor": world["a"].referral_code, "reason": "客户要求更换专属顾问"}
    )
    assert reply.status_code == 302
    current.refresh_from_db()
    assert current.distributor == world["a"] and current.source == "manual"
    touch = Touch.objects.filter(buyer=world["buyer"]).latest("pk")
    assert (touch.rule, touch.reason, touch.staff, touch.decision) == (
        "manual",
        "客户要求更换专属顾问",
        staff,
        "rebound",
    )

    # A distributor cannot be bound to themselves: refused, shown, nothing changes.
    a_user_binding = CustomerBinding.objects.filter(buyer=world["a"].user).count()
    reply = boss.post(
        reverse("admin:distribution_customerbinding_bind_buyer"),
        {"buyer": "13900000001", "distributor": world["a"].referral_code, "reason": "测试"},
    )
    assert reply.status_code == 200
    assert "分销商不能绑定自己" in reply.content.decode()
    assert CustomerBinding.objects.filter(buyer=world["a"].user).count() == a_user_binding
