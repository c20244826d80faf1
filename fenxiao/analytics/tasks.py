from huey import crontab

from fenxiao.core.periodic import once_per_slot

from .services import aggregates


@once_per_slot(crontab(minute="*/5"))
def refresh_reports():
    """Report aggregates from the last run's day to today, so figures are minutes fresh."""
    return aggregates.refresh()
