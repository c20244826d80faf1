from huey import crontab

from fenxiao.core.periodic import once_per_slot

from .services import media_sweep


@once_per_slot(crontab(minute="40", hour="3"))
def sweep_unreferenced_media():
    """Pictures nothing refers to any more (description uploads never saved, pictures of
    import runs that were killed) are removed once a day."""
    return media_sweep.sweep()
