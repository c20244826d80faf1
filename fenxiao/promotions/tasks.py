from huey import crontab
from huey.contrib.djhuey import db_task

from fenxiao.core.periodic import once_per_slot

from .services import group_failures, push


@once_per_slot(crontab(minute="*"))
def close_due_groups():
    """Every minute: groups past their deadline fail (every paid member refunded in full) or
    are completed with virtual members; late payers of closed groups are refunded."""
    group_failures.sweep()


@db_task()
def deliver_push(push_id: int):
    """Deliver a targeted push chunk by chunk; safe to run again, or twice at once."""
    push.deliver(push_id)


@once_per_slot(crontab(minute="*"))
def resume_stranded_pushes():
    """Every minute: a sending push whose job died (no progress for a while) gets a new one."""
    push.sweep()
