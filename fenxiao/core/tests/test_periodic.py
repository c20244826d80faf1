"""Scheduled tasks run once per schedule slot, however many consumers enqueue them."""

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from huey import crontab

from fenxiao.core import periodic
from fenxiao.core.models import PeriodicRun
from fenxiao.testing import run_together

pytestmark = pytest.mark.django_db

SHOP = ZoneInfo(settings.TIME_ZONE)
ran: list[str] = []


@periodic.once_per_slot(crontab(minute="30", hour="2"))
def nightly_probe(label: str = "") -> None:
    ran.append(label)


@pytest.fixture(autouse=True)
def _fresh():
    ran.clear()
    yield
    ran.clear()


def at(moment: datetime):
    return mock.patch("django.utils.timezone.now", lambda: moment)


def shop(*args) -> datetime:
    return datetime(*args, tzinfo=SHOP)


def test_the_slot_is_the_latest_minute_the_schedule_matched():
    nightly = crontab(minute="30", hour="2")
    assert periodic.current_slot(nightly, shop(2027, 1, 4, 2, 30, 5)) == shop(2027, 1, 4, 2, 30)
    # A copy that waited in the queue past its minute still belongs to that slot.
    assert periodic.current_slot(nightly, shop(2027, 1, 4, 3, 5)) == shop(2027, 1, 4, 2, 30)
    assert periodic.current_slot(nightly, shop(2027, 1, 4, 2, 29)) == shop(2027, 1, 3, 2, 30)
    tens = crontab(minute="*/10")
    assert periodic.current_slot(tens, shop(2027, 1, 4, 9, 59, 59)) == shop(2027, 1, 4, 9, 50)
    # Read on the shop's clock, whatever zone `now` is given in: 18:31 UTC is 02:31 here.
    utc = datetime(2027, 1, 4, 18, 31, tzinfo=ZoneInfo("UTC"))
    assert periodic.current_slot(nightly, utc) == shop(2027, 1, 5, 2, 30)


def test_two_runs_in_the_same_slot_run_the_body_once():
    with at(shop(2027, 1, 4, 2, 30, 1)):
        nightly_probe("first consumer")  # immediate mode: run through Huey, as a consumer does
    with at(shop(2027, 1, 4, 2, 31, 40)):
        nightly_probe("second consumer")
    assert ran == ["first consumer"]
    run = PeriodicRun.objects.get()
    assert (run.task, run.slot) == ("fenxiao.core.tests.test_periodic.nightly_probe", shop(2027, 1, 4, 2, 30))
    assert run.claimed_by


def test_runs_in_different_slots_each_run():
    with at(shop(2027, 1, 4, 2, 30)):
        nightly_probe("monday")
    with at(shop(2027, 1, 5, 2, 30)):
        nightly_probe("tuesday")
    assert ran == ["monday", "tuesday"]
    assert PeriodicRun.objects.count() == 2


def test_a_named_slot_is_claimed_like_the_current_one():
    nightly_probe("a", slot=shop(2027, 1, 4, 2, 30).isoformat())
    nightly_probe("b", slot=shop(2027, 1, 4, 2, 30).isoformat())
    nightly_probe("c", slot=shop(2027, 1, 5, 2, 30).isoformat())
    assert ran == ["a", "c"]


def test_a_direct_call_runs_the_body_without_a_claim():
    nightly_probe.call_local("shell")
    nightly_probe.call_local("shell")
    assert ran == ["shell", "shell"]
    assert not PeriodicRun.objects.exists()


def test_the_winner_of_a_slot_prunes_rows_older_than_a_week():
    with at(shop(2027, 1, 1, 2, 30)):
        nightly_probe()
    PeriodicRun.objects.create(task="other.task", slot=shop(2026, 12, 1, 2, 30))
    with at(shop(2027, 1, 9, 2, 30)):
        nightly_probe()
    assert sorted(PeriodicRun.objects.values_list("task", "slot")) == [
        ("fenxiao.core.tests.test_periodic.nightly_probe", shop(2027, 1, 9, 2, 30)),
        ("other.task", shop(2026, 12, 1, 2, 30)),  # each task prunes its own rows
    ]


def test_every_scheduled_task_of_the_project_claims_its_slot():
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")  # as the consumer does at start
    names = {task.__name__ for task in HUEY._registry._periodic_tasks}
    assert {"scheduled_settlement", "cancel_expired_orders", "sweep_sms_outbox"} <= names
    for task in HUEY._registry._periodic_tasks:
        if task.__module__.startswith("fenxiao.") and ".tests." not in task.__module__:
            assert task.context, f"{task.__module__}.{task.__name__} runs without a slot claim"


def test_the_project_task_runs_once_per_slot(monkeypatch):
    from fenxiao.distribution import tasks
    from fenxiao.distribution.services import grades

    calls = []
    monkeypatch.setattr(grades, "upgrade", lambda: calls.append(timezone.now()))
    with at(shop(2027, 1, 4, 4, 0, 2)):
        tasks.daily_grade_upgrades()
        tasks.daily_grade_upgrades()
    with at(shop(2027, 1, 5, 4, 0, 2)):
        tasks.daily_grade_upgrades()
    assert len(calls) == 2


@pytest.mark.django_db(transaction=True)
def test_simultaneous_claims_of_one_slot_have_one_winner(postgres_only):
    slot = shop(2027, 1, 4, 2, 30)
    wins = run_together(8, lambda i: periodic.claim("race", slot))
    assert sorted(wins) == [False] * 7 + [True]
    assert PeriodicRun.objects.filter(task="race").count() == 1
    assert timezone.is_aware(PeriodicRun.objects.get(task="race").slot)
