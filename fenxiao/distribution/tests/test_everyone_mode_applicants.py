"""人人分销 (SPEC: "every registered buyer is a distributor") takes in the applicants too:
an application pending review is approved and one turned down is reopened when the
merchant switches to it, and such an applicant who applies under it is let in at once.
A suspended or banned distributor stays as staff left them."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.distribution.models import DistributionSettings, Distributor, DistributorStatus
from fenxiao.distribution.services import config, distributors
from fenxiao.notices.models import Kind, Message
from fenxiao.testing import api_for, make_buyer

from .helpers import configure, make_distributor, settings_data

pytestmark = pytest.mark.django_db


def applicants(n: int, *, rejected: int = 0) -> list[Distributor]:
    configure(enable_mode="apply", review_mode="manual", require_real_name=False)
    people = [distributors.apply(make_buyer()) for _ in range(n)]
    for person in people[:rejected]:
        distributors.reject(person, None, reason="资料不全")
    return people


def status_of(distributor: Distributor) -> str:
    distributor.refresh_from_db()
    return distributor.status


def test_switching_to_everyone_in_the_backend_lets_pending_and_rejected_applicants_in(boss):
    pending, rejected = applicants(2, rejected=1)[::-1]
    suspended = make_distributor(status=DistributorStatus.SUSPENDED)
    banned = make_distributor(status=DistributorStatus.BANNED)

    settings_page = reverse("admin:distribution_distributionsettings_change", args=[config.current().pk])
    reply = boss.post(settings_page, settings_data(enable_mode="everyone"))
    assert reply.status_code == 302  # the enrolment runs once the switch commits

    assert (status_of(pending), status_of(rejected)) == ("active", "active")
    assert rejected.reject_reason == "" and rejected.activated_at is not None
    assert (status_of(suspended), status_of(banned)) == ("suspended", "banned")
    # Each one let in is told, as a reviewed application is.
    told = Message.objects.filter(kind=Kind.DISTRIBUTOR_APPROVED)
    assert set(told.values_list("user_id", flat=True)) == {pending.user_id, rejected.user_id}
    assert distributors.enrol_everyone() == 0  # nothing left: a re-run changes nothing


def test_the_enrolment_lets_applicants_in_with_the_same_statements_for_2_or_12():
    counts = []
    for n in (2, 12):
        people = applicants(n, rejected=n // 2)
        DistributionSettings.objects.update(enable_mode="everyone")
        # The notices' deliveries go after commit, to the worker: not counted here.
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            assert distributors.enrol_everyone(chunk=1000) == n
        counts.append(len(queries))
        assert {status_of(p) for p in people} == {"active"}
    assert counts[0] == counts[1]


def test_an_applicant_who_applies_under_everyone_is_let_in_at_once():
    pending, rejected = applicants(2, rejected=1)[::-1]
    DistributionSettings.objects.update(enable_mode="everyone")  # before the enrolment ran

    reply = api_for(rejected.user).post("/distribution/apply", {})
    assert reply.status_code == 201, reply.content
    assert (reply.json()["is_distributor"], reply.json()["status"]) == (True, "active")
    assert status_of(rejected) == "active"
    assert distributors.apply(pending.user).status == "active"
    assert status_of(pending) == "active"

    # Already one: as before, nothing to apply for.
    reply = api_for(pending.user).post("/distribution/apply", {})
    assert (reply.status_code, reply.json()["message"]) == (409, "您已提交申请或已是分销商")
    # A banned distributor is not let back in by the mode.
    banned = make_distributor(status=DistributorStatus.BANNED)
    reply = api_for(banned.user).post("/distribution/apply", {})
    assert (reply.status_code, reply.json()["message"]) == (409, "您的分销资格已被暂停或封禁，请联系商家")
    assert status_of(banned) == "banned"


def test_a_waiting_applicant_is_let_in_on_opening_the_distribution_centre():
    from fenxiao.testing import login

    pending, rejected = applicants(2, rejected=1)[::-1]
    DistributionSettings.objects.update(enable_mode="everyone")  # before the enrolment ran

    for person in (pending, rejected):
        page = login(person.user).get("/d/")
        assert page.status_code == 200, page.status_code
        assert status_of(person) == "active"
