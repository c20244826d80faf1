from huey import crontab

from fenxiao.core.periodic import once_per_slot

from .services import after_sales, sweeps


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
    return after_sales.sweep_deadlines()
