"""Huey tasks for accounts and customers: the SMS outbox (the state lives in the rows; the
sweeper re-drives a message whose task died with its worker), customer figures and tags."""

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


@db_task()
def retag_customer(buyer_id: int) -> None:
    """One buyer's automatic tags, after their payment or refund committed."""
    from .services import tags

    tags.recompute_for_buyer(buyer_id)


@once_per_slot(crontab(minute="15", hour="3"))
def recompute_customer_tags() -> None:
    """Every night: customer figures rebuilt from the orders, then every automatic tag
    recomputed with the thresholds as they are now (both set-based, in chunks)."""
    from .services import figures, tags

    figures.rebuild()
    tags.recompute_all()


@once_per_slot(crontab(minute="*/10"))
def sweep_new_customers() -> None:
    """Every ten minutes: new buyers get their figures row, registration source and 新客."""
    from datetime import timedelta

    from django.utils import timezone

    from .services import figures, tags

    figures.add_new_buyers()
    tags.tag_new_buyers(timezone.now() - timedelta(days=1))


@db_task()
def recompute_tags_now() -> None:
    """The backend's "recompute now": the nightly job, at once, in the background."""
    from .services import figures, tags

    figures.rebuild()
    tags.recompute_all()


@once_per_slot(crontab(minute="25", hour="4"))
def drop_idle_api_tokens() -> None:
    """Every night: API tokens idle past API_TOKEN_IDLE_DAYS are deleted."""
    from .services import accounts

    accounts.drop_idle_tokens()
