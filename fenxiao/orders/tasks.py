from huey import crontab
from huey.contrib.djhuey import db_task

from fenxiao.core.periodic import once_per_slot

from .services import after_sale_sweep, sweeps, tracking


@once_per_slot(crontab(minute="*"))
def cancel_expired_orders():
    """Unpaid orders past their payment deadline are cancelled and their stock restored."""
    return sweeps.cancel_expired_orders()


@once_per_slot(crontab(minute="*/10"))
def auto_complete_orders():
    """Shipped orders past their auto-complete time are completed for the buyer."""
    return sweeps.auto_complete_orders()


@once_per_slot(crontab(minute="*/10"))
def after_sale_deadlines():
    """After-sales past the deadline of their step: unanswered requests approved, returns
    never shipped back closed, parcels never confirmed received and refunded."""
    return after_sale_sweep.sweep_deadlines()


@db_task()
def send_tracking_subscription(subscription_id: int):
    """Subscribe one parcel at the tracking service (the row says whether it still must)."""
    return tracking.send_subscription(subscription_id)


@once_per_slot(crontab(minute="*"))
def sweep_tracking_subscriptions():
    """Parcel subscriptions still pending past their deadline (a worker died) are re-sent."""
    return tracking.sweep_subscriptions()


@db_task()
def push_sandbox_tracking(waybill_id: int, advance: bool = True, attempt: int = 0):
    """The sandbox tracking service moves a parcel one step on and pushes its trail."""
    from .logistics import sandbox

    return sandbox.push(waybill_id, advance=advance, attempt=attempt)
