from huey import crontab
from huey.contrib.djhuey import db_task

from fenxiao.core.periodic import once_per_slot

from .services import grades, settlement, withdrawals

# Schedules are read in the shop's time zone: settings.HUEY has "utc": False, so huey reads
# the consumer's local clock, and Django sets the process time zone (TZ) to TIME_ZONE.


@once_per_slot(crontab(minute="30", hour="2"))
def scheduled_settlement():
    """Daily at 02:30: settles (auto mode) or prepares a batch (manual) on cycle days, and
    catches up a cycle day that was missed."""
    settlement.run_scheduled()


@once_per_slot(crontab(minute="*/10"))
def resume_interrupted_settlements():
    """Every 10 minutes: a settlement run or approval that died halfway is finished."""
    settlement.resume_interrupted()


@once_per_slot(crontab(minute="0", hour="4"))
def daily_grade_upgrades():
    grades.upgrade()


@db_task()
def execute_payout(withdrawal_id: int):
    """One transfer attempt; the row holds its state and the sweeper re-drives it."""
    withdrawals.execute_payout(withdrawal_id)


@once_per_slot(crontab(minute="*"))
def sweep_payouts():
    """Every minute: re-drive payouts due again or stranded by a worker that died."""
    withdrawals.sweep_payouts()
