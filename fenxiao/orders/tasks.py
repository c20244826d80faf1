from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import sweeps


@db_periodic_task(crontab(minute="*"))
def cancel_expired_orders():
    """Unpaid orders past their payment deadline are cancelled and their stock restored."""
    return sweeps.cancel_expired_orders()


@db_periodic_task(crontab(minute="*/10"))
def auto_complete_orders():
    """Shipped orders past their auto-complete time are completed for the buyer."""
    return sweeps.auto_complete_orders()
