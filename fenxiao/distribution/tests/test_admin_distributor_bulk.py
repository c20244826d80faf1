"""The 分销商 list's bulk actions: suspend, reactivate and set the grade of many distributors
at once, each through the same service as on their page, and only where that service would
act; and the list's filter by application date."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.distribution.models import Distributor
from fenxiao.distribution.services import distributors
from fenxiao.testing import make_buyer

from .backend import designate, list_url, texts

pytestmark = pytest.mark.django_db


def bulk(boss, action, people, **form):
    ids = [str(d.pk) for d in people]
    first = boss.post(list_url(Distributor), {"action": action, "index": "0", "_selected_action": ids})
    second = boss.post(
        list_url(Distributor),
        {"action": action, "_confirm": "1", "select_across": "0", "_selected_action": ids, **form},
    )
    return first, second


def statuses(people):
    return [Distributor.objects.get(pk=d.pk).status for d in people]


def test_bulk_suspend_asks_for_a_reason_then_suspends_each(boss):
    people = [designate() for _ in range(3)]
    first, done = bulk(boss, "suspend_selected", people, reason="集体刷单")
    assert first.status_code == 200 and "暂停分销资格" in first.content.decode()
    assert done.status_code == 302
    assert statuses(people) == ["suspended"] * 3
    assert {Distributor.objects.get(pk=d.pk).status_reason for d in people} == {"集体刷单"}


def test_bulk_reactivate_lifts_suspensions_and_leaves_applications_alone(staff, boss):
    suspended = designate()
    distributors.set_status(suspended, staff, "suspended", reason="核查")
    applicant = distributors.apply(make_buyer(), real_name="申请人")
    _first, done = bulk(boss, "reactivate_selected", [suspended, applicant], reason="")
    assert done.status_code == 302
    # 恢复 is no approval: the application still waits for review.
    assert statuses([suspended, applicant]) == ["active", "pending"]
    assert any("只有已暂停的分销商可以恢复" in t for t in texts(boss.get(list_url(Distributor))))


def test_reactivating_an_application_from_its_page_is_refused(boss):
    applicant = distributors.apply(make_buyer(), real_name="申请人")
    reply = boss.post(f"/backend/distribution/distributor/{applicant.pk}/reactivate/", {"reason": ""})
    assert reply.status_code == 200
    assert statuses([applicant]) == ["pending"]


def test_bulk_grade_sets_the_chosen_grade(world, boss):
    people = [designate() for _ in range(2)]
    _first, done = bulk(boss, "grade_selected", people, grade=world["gold"].pk)
    assert done.status_code == 302
    assert {Distributor.objects.get(pk=d.pk).grade_id for d in people} == {world["gold"].pk}


def test_a_view_only_member_has_no_bulk_status_actions(boss, staff):
    from fenxiao.testing import login, make_staff

    viewer = login(make_staff(perms=["distribution.view_distributor"]))
    page = viewer.get(list_url(Distributor))
    assert page.status_code == 200
    assert "suspend_selected" not in page.content.decode()


def test_the_list_filters_by_application_date(boss):
    old, new = designate(), designate()
    Distributor.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    page = boss.get(list_url(Distributor), {"created_at_from": since})
    assert page.status_code == 200
    shown = {d.pk for d in page.context["cl"].result_list}
    assert new.pk in shown and old.pk not in shown
