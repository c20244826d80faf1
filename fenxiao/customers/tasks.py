"""Huey tasks for accounts: the SMS outbox. The state lives in the rows; the sweeper
re-drives a message whose task died with its worker."""

from huey import crontab
from huey.contrib.djhuey import db_task

from fenxiao.core.periodic import once_per_slot

from .services import sms_codes


@db_task()
def send_sms(message_id: int) -> None:
    sms_codes.deliver(message_id)


@once_per_slot(crontab(minute="*"))
def sweep_sms_outbox() -> None:
    """Every minute: hand over again messages still pending past their deadline."""
    sms_codes.sweep()
