"""Huey tasks for the notification outbox. The state lives in the rows; the sweeper
re-drives a row whose task died with its worker."""

from huey import crontab
from huey.contrib.djhuey import db_task

from fenxiao.core.periodic import once_per_slot

from .services import delivery


@db_task()
def deliver_messages(message_ids: list[int]) -> None:
    delivery.deliver_messages(message_ids)


@db_task()
def deliver_notice(delivery_id: int) -> None:
    delivery.deliver(delivery_id)


@once_per_slot(crontab(minute="*"))
def sweep_notice_outbox() -> None:
    """Every minute: hand over again rows still pending past their deadline."""
    delivery.sweep()
