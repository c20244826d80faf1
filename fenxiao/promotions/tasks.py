from huey import crontab

from fenxiao.core.periodic import once_per_slot

from .services import group_failures


@once_per_slot(crontab(minute="*"))
def close_due_groups():
    """Every minute: groups past their deadline fail (every paid member refunded in full) or
    are completed with virtual members; late payers of closed groups are refunded."""
    group_failures.sweep()
