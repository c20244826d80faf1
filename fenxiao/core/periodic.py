"""Scheduled tasks that run once per schedule slot across every task consumer.

Each Huey consumer runs its own scheduler, so with several consumers (one per machine,
sharing one Redis queue) every periodic task is enqueued once per consumer and minute it
is due. `once_per_slot` replaces huey's `db_periodic_task`: before the body runs, it
inserts a (task, slot) row into `PeriodicRun`, where the slot is the latest minute the
schedule matched, on the shop's clock. The unique constraint lets exactly one insert win;
every other copy of the same slot finds the row and returns without running. The slot is
read from the schedule, not from when the copy happens to run, so a copy that waited in
the queue past the minute still counts as the slot it was enqueued for.

A slot is claimed before its body runs, so a run that fails is not repeated by another
copy of the same slot: like a failed run on a single consumer, the next slot's run (every
scheduled service here catches up what an earlier run left: missed settlement days,
stranded batches, overdue orders) picks it up.

Only a run through Huey claims a slot. `task.call_local()` (tests, a shell) runs the body
directly, and `task(slot=...)` enqueues a run for a named slot (an operator re-running a
slot that failed first deletes its row).
"""

import functools
import logging
import os
import socket
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from huey.contrib.djhuey import db_periodic_task

from .models import PeriodicRun

logger = logging.getLogger(__name__)

# Schedules in this project fire at least daily; a week of minutes is the longest walk back.
_MAX_LOOKBACK_MINUTES = 7 * 24 * 60
KEEP_RUNS = timedelta(days=7)


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def current_slot(schedule, now: datetime | None = None) -> datetime:
    """The latest minute at or before `now` (shop time) on which `schedule` matched."""
    local = timezone.localtime(now or timezone.now()).replace(second=0, microsecond=0)
    naive = local.replace(tzinfo=None)  # huey's crontab reads naive local times
    for back in range(_MAX_LOOKBACK_MINUTES + 1):
        candidate = naive - timedelta(minutes=back)
        if schedule(candidate):
            return timezone.make_aware(candidate, local.tzinfo)
    return local


def claim(task: str, slot: datetime) -> bool:
    """True for the one caller that inserts the (task, slot) row; False for every other."""
    try:
        with transaction.atomic():
            PeriodicRun.objects.create(task=task, slot=slot, claimed_by=node_name())
    except IntegrityError:
        return False
    # The winner of each slot also clears the task's rows older than a week, so the table
    # stays at about a week of slots per task without a task of its own.
    prune(task, slot)
    return True


def prune(task: str, now: datetime) -> int:
    return PeriodicRun.objects.filter(task=task, slot__lt=now - KEEP_RUNS).delete()[0]


def once_per_slot(schedule, **options):
    """`db_periodic_task(schedule)` whose body runs once per slot across all consumers."""

    def decorator(fn):
        name = f"{fn.__module__}.{fn.__name__}"

        @functools.wraps(fn)
        def claimed(*args, task=None, slot: str | None = None, **kwargs):
            if task is not None:  # run by Huey, not called directly
                when = datetime.fromisoformat(slot) if slot else current_slot(schedule)
                if not claim(name, when):
                    logger.info("periodic task %s: slot %s already claimed, skipped", name, when.isoformat())
                    return None
                logger.info("periodic task %s: slot %s claimed by %s", name, when.isoformat(), node_name())
            return fn(*args, **kwargs)

        return db_periodic_task(schedule, context=True, **options)(claimed)

    return decorator
