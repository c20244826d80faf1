"""Calendar days in shop time (the current time zone) as ranges of aware datetimes, so a
filter by day compares a timestamp column with two constants and can use its index."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_start(day: date) -> datetime:
    """The moment `day` begins in shop time."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[the start of `first`, the start of the day after `last`) in shop time."""
    return day_start(first), day_start(last + timedelta(days=1))
