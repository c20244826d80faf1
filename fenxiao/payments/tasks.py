"""Huey tasks for payments: thin wrappers; the state and the retry schedule live in the rows.

A task that dies with its worker is not retried by Huey but by the sweepers below, which
find the row still `pending` / `processing` past its deadline.
"""

from huey import crontab
from huey.contrib.djhuey import db_task

from fenxiao.core.periodic import once_per_slot

from .gateways import sandbox
from .services import refunds


@db_task()
def deliver_sandbox_notification(out_trade_no: str) -> None:
    sandbox.deliver_notification(out_trade_no)


@db_task()
def execute_refund(refund_id: int) -> None:
    refunds.execute_refund(refund_id)


@once_per_slot(crontab(minute="*"))
def sweep_payment_effects() -> None:
    """Every minute: re-drive refunds and notification deliveries due again or stranded."""
    refunds.sweep()
    sandbox.sweep_notifications()
