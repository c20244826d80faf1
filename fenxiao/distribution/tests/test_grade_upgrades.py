"""Grade upgrades worked a chunk of distributors at a time give exactly what the rule gives
one distributor at a time: on random shops (grades with ALL/ANY conditions, teams, orders
paid, refunded and completed, settled commission and clawbacks), with chunks that do not
line up with anything, the set-based run and a plain per-distributor reading agree."""

import itertools
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.distribution.models import (
    Distributor,
    DistributorGrade,
    DistributorStatus,
    LedgerEntry,
    LedgerKind,
    OfflineAttribution,
    OrderAttribution,
)
from fenxiao.distribution.services import config, grades
from fenxiao.orders.models import Order
from fenxiao.testing import make_buyer

from .helpers import make_distributor

pytestmark = pytest.mark.django_db

_keys = itertools.count(1)
CONDITIONS = {
    "min_own_sales": (0, 40000),
    "min_own_orders": (0, 4),
    "min_single_order": (0, 20000),
    "min_direct_team": (0, 3),
    "min_team_sales": (0, 60000),
    "min_team_orders": (0, 5),
    "min_settled_commission": (0, 3000),
}


def random_grades(rng: random.Random) -> list[DistributorGrade]:
    made = [config.save_grade(DistributorGrade(name="普通", weight=1, is_default=True))]
    for weight in range(2, 2 + rng.randint(2, 4)):
        fields = {
            name: rng.randint(*bounds)
            for name, bounds in CONDITIONS.items()
            if rng.random() < 0.35  # a grade may end with no condition at all: by hand only
        }
        made.append(
            config.save_grade(
                DistributorGrade(
                    name=f"等级{weight}", weight=weight, logic=rng.choice(["all", "any"]), **fields
                )
            )
        )
    return made


def random_shop(rng: random.Random, grade_list: list[DistributorGrade]) -> list[Distributor]:
    people: list[Distributor] = []
    for _ in range(24):
        parent = rng.choice(people) if people and rng.random() < 0.7 else None
        status = rng.choice([DistributorStatus.ACTIVE] * 4 + [DistributorStatus.SUSPENDED])
        people.append(make_distributor(parent=parent, status=status))
    for distributor in people:
        roll = rng.random()
        if roll < 0.25:
            Distributor.objects.filter(pk=distributor.pk).update(grade=rng.choice(grade_list))
        elif roll < 0.35:
            Distributor.objects.filter(pk=distributor.pk).update(grade=None)
    buyer = make_buyer()
    now = timezone.now()
    for _ in range(70):
        paid = rng.choice([0, rng.randint(100, 30000)])
        refunded = rng.choice([0, 0, paid, paid // 3])
        order = Order.objects.create(
            number=f"G{next(_keys):018d}",
            buyer=buyer,
            goods_amount=max(paid, 100),
            total=max(paid, 100),
            paid_amount=paid,
            refunded_amount=refunded,
            status=rng.choice(["pending_shipment", "shipped", "completed"]) if paid else "pending_payment",
            paid_at=now if paid else None,
            recipient="张三",
            recipient_phone="13800000000",
            province="浙江省",
            city="杭州市",
            address_detail="文三路 1 号",
            pay_deadline=now,
        )
        OrderAttribution.objects.create(
            order=order, level1=rng.choice(people + [None]), settings_version=1, reason="测试"
        )
    for _ in range(40):
        LedgerEntry.objects.create(
            distributor=rng.choice(people),
            kind=rng.choice([LedgerKind.COMMISSION] * 3 + [LedgerKind.CLAWBACK, LedgerKind.WITHDRAWAL_HOLD]),
            amount=rng.randint(1, 1500),
            source_key=f"test:{next(_keys)}",
        )
    return people


def measured_alone(distributor: Distributor) -> dict[str, int]:
    """The measures read for one distributor with nothing shared: the reference. Only
    orders received count, each for what the buyer kept; one refunded in full is no order."""
    received = Order.objects.filter(status="completed").select_related("attribution")
    own = [o for o in received if o.attribution.level1_id == distributor.pk]
    team_ids = set(Distributor.objects.filter(parent=distributor).values_list("pk", flat=True))
    team = [o for o in received if o.attribution.level1_id in team_ids]
    return {
        "min_own_sales": sum(o.paid_amount - o.refunded_amount for o in own),
        "min_own_orders": sum(o.refunded_amount < o.paid_amount for o in own),
        "min_single_order": max((o.paid_amount - o.refunded_amount for o in own), default=0),
        "min_direct_team": Distributor.objects.filter(parent=distributor, status="active").count(),
        "min_team_sales": sum(o.paid_amount - o.refunded_amount for o in team),
        "min_team_orders": sum(o.refunded_amount < o.paid_amount for o in team),
        "min_settled_commission": sum(
            e.amount
            for e in LedgerEntry.objects.filter(distributor=distributor, kind__in=["commission", "clawback"])
        ),
    }


def grade_alone(distributor: Distributor, grade_list: list[DistributorGrade]):
    """The rule for one distributor: the highest grade above theirs whose conditions are met
    (all of them, or any, as the grade says); a grade without conditions only by hand."""
    if distributor.status != DistributorStatus.ACTIVE:
        return distributor.grade
    measured = measured_alone(distributor)
    current = distributor.grade.weight if distributor.grade else -1
    for grade in sorted(grade_list, key=lambda g: -g.weight):
        if grade.weight <= current:
            break
        checks = [measured[f] >= getattr(grade, f) for f in CONDITIONS if getattr(grade, f) is not None]
        if checks and (all(checks) if grade.logic == "all" else any(checks)):
            return grade
    return distributor.grade


@pytest.mark.parametrize("seed", range(6))
def test_the_chunked_upgrade_agrees_with_the_rule_for_each_distributor(seed):
    rng = random.Random(seed)
    grade_list = random_grades(rng)
    people = random_shop(rng, grade_list)
    before = {d.pk: d.grade_id for d in Distributor.objects.all()}
    expected = {d.pk: grade_alone(d, grade_list) for d in Distributor.objects.select_related("grade")}
    expected = {pk: g.pk if g else None for pk, g in expected.items()}

    upgraded = grades.upgrade(chunk_size=5)

    assert dict(Distributor.objects.values_list("pk", "grade_id")) == expected
    assert {d.pk for d in upgraded} == {pk for pk in expected if expected[pk] != before[pk]}
    assert all(d.grade.pk == expected[d.pk] for d in upgraded)
    assert len(people) == 24


def test_after_a_settlement_only_the_distributors_it_paid_are_looked_at():
    rng = random.Random(99)
    grade_list = random_grades(rng)
    people = random_shop(rng, grade_list)
    chosen = {d.pk for d in people[::3]}
    before = dict(Distributor.objects.values_list("pk", "grade_id"))
    expected = {
        d.pk: (g.pk if (g := grade_alone(d, grade_list)) else None)
        for d in Distributor.objects.select_related("grade")
    }
    grades.upgrade_after_settlement(chosen)
    after = dict(Distributor.objects.values_list("pk", "grade_id"))
    assert after == {pk: expected[pk] if pk in chosen else before[pk] for pk in before}


def _count_upgrade_queries(n: int) -> int:
    senior = DistributorGrade.objects.get(weight=2)
    people = [make_distributor() for _ in range(n)]
    for child in people:
        make_distributor(parent=child)  # one direct team member each: all qualify
    with CaptureQueriesContext(connection) as ctx:
        upgraded = grades.upgrade(chunk_size=1000)
    assert {d.pk for d in upgraded} == {d.pk for d in people}
    assert all(d.grade == senior for d in upgraded)
    Distributor.objects.update(grade=DistributorGrade.objects.get(weight=1))
    return len(ctx.captured_queries)


def test_statements_per_upgrade_chunk_do_not_grow_with_the_chunk(settings):
    # The upgrade notices go in with the chunk; each WeChat send is a task of its own after
    # the commit, so only the in-site messages are counted here.
    settings.NOTICE_EVENT_CHANNELS = {"*": []}
    config.save_grade(DistributorGrade(name="普通", weight=1, is_default=True))
    config.save_grade(DistributorGrade(name="高级", weight=2, logic="any", min_direct_team=1))
    small = _count_upgrade_queries(3)
    Distributor.objects.update(parent=None)
    Distributor.objects.all().delete()
    assert _count_upgrade_queries(30) == small


def test_the_check_reads_only_the_history_the_grades_ask_for():
    """Each measure is a read over the distributors' whole history: grades that ask only for
    a direct team read no order, till sale or ledger entry."""
    config.save_grade(DistributorGrade(name="普通", weight=1, is_default=True))
    senior = config.save_grade(DistributorGrade(name="高级", weight=2, min_direct_team=1))
    leader = make_distributor()
    make_distributor(parent=leader)
    with CaptureQueriesContext(connection) as ctx:
        upgraded = grades.upgrade()
    assert [(d.pk, d.grade) for d in upgraded] == [(leader.pk, senior)]
    read = " ".join(query["sql"] for query in ctx.captured_queries)
    for model in (Order, OfflineAttribution, LedgerEntry):
        assert model._meta.db_table not in read
    # A measure not asked for is not read (it stays 0); asked for none in particular, all are.
    assert grades.metrics([leader.pk], {"min_own_sales"})[leader.pk]["min_direct_team"] == 0
    assert grades.metrics([leader.pk])[leader.pk]["min_direct_team"] == 1
