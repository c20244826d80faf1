"""Huey tasks for the webhook outbox. The state lives in the rows; the sweeper re-drives a
row whose task died with its worker."""

from huey import crontab
from huey.contrib.djhuey import db_task

from fenxiao.core.periodic import once_per_slot

from .services import delivery


@db_task()
def deliver_events(event_ids: list[int]) -> None:
    delivery.deliver_events(event_ids)


@db_task()
def deliver_webhook(delivery_id: int) -> None:
    delivery.deliver(delivery_id)


@once_per_slot(crontab(minute="*"))
def sweep_webhooks() -> None:
    """Every minute: re-drive deliveries due again, disable endpoints failing for a day."""
    delivery.sweep()
