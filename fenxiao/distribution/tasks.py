from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_task

from fenxiao.core.periodic import once_per_slot

from .services import (
    bans,
    distributors,
    enrolment,
    grades,
    payouts,
    reconciliation,
    scheduled,
    settlement,
    settlement_cycle,
)

# Schedules are read in the shop's time zone: settings.HUEY has "utc": False, so huey reads
# the consumer's local clock, and Django sets the process time zone (TZ) to TIME_ZONE.


@once_per_slot(crontab(minute=str(settlement_cycle.RUN_AT.minute), hour=str(settlement_cycle.RUN_AT.hour)))
def scheduled_settlement():
    """Daily at 02:30 (`settlement_cycle.RUN_AT`): settles (auto mode) or prepares a batch
    (manual) on cycle days (the merchant's 周结日 / 月结日), and catches up one that was missed."""
    settlement_cycle.run_scheduled()


@once_per_slot(crontab(minute="*/10"))
def resume_interrupted_settlements():
    """Every 10 minutes: a settlement run or approval that died halfway is finished."""
    settlement.resume_interrupted()


@once_per_slot(crontab(minute="*"))
def apply_scheduled_changes():
    """Every minute: settings and rule changes whose 生效时间 has come take effect."""
    scheduled.apply_due()


@once_per_slot(crontab(minute="0", hour="4"))
def daily_grade_upgrades():
    grades.upgrade()


@once_per_slot(crontab(minute="10", hour="5"))
def daily_reconciliation():
    """Daily at 05:10, after settlement and grade upgrades: yesterday's 对账."""
    reconciliation.run()


@db_task()
def reconcile_now(staff_id: int):
    """立即对账 in the backend: today's result, run by the consumer (it reads all history)."""
    from django.contrib.auth import get_user_model

    reconciliation.run(timezone.localdate(), staff=get_user_model().objects.filter(pk=staff_id).first())


@once_per_slot(crontab(minute="40"))
def void_late_held_commission():
    """Hourly: commission a payment in flight wrote for a distributor just banned with 作废
    is voided as the ban voided the rest (else one query)."""
    bans.void_late_held()


@db_task()
def enrol_everyone():
    """人人分销 switched on: every buyer registered before gets a distributor account."""
    distributors.enrol_everyone()


@db_task()
def enrol_qualified():
    """满足条件 switched on or changed: buyers whose orders already meet it become distributors."""
    enrolment.enrol_qualified()


@once_per_slot(crontab(minute="15"))
def enrol_everyone_hourly():
    """Hourly: finishes an enrolment that died halfway, under 人人分销 or 满足条件 (else two
    queries)."""
    distributors.enrol_everyone()
    enrolment.enrol_qualified()


@db_task()
def execute_payout(withdrawal_id: int):
    """One transfer attempt; the row holds its state and the sweeper re-drives it."""
    payouts.execute_payout(withdrawal_id)


@once_per_slot(crontab(minute="*"))
def sweep_payouts():
    """Every minute: re-drive payouts due again or stranded by a worker that died."""
    payouts.sweep_payouts()
