"""Huey tasks for stores: the POS API's sweeper (nonces past the replay window, old
idempotent answers)."""

from huey import crontab

from fenxiao.core.periodic import once_per_slot


@once_per_slot(crontab(minute="*/10"))
def sweep_pos_requests() -> None:
    """Every ten minutes: forget nonces and idempotent answers nobody can use any more."""
    from .services import pos_keys, pos_sync

    pos_keys.sweep_nonces()
    pos_sync.sweep()
