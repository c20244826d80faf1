"""The raw rows each dashboard figure counts, for a window of time [lo, hi).

The daily aggregates (aggregates.py) group these by day; the dashboard's 今日 reads them
directly for yesterday up to the same time of day (same_time.py). One definition for both,
so yesterday-so-far is counted exactly as a whole day is."""

from fenxiao.distribution.models import Commission, Distributor, Withdrawal
from fenxiao.orders.models import AfterSale, Order

# A refund counts on the day it was granted: approving an after-sale is what adds to the
# order's refunded amount (the gateway transfer may finish later, or be retried).
GRANTED = [AfterSale.Status.APPROVED, AfterSale.Status.REFUNDED]


def paid_orders(lo, hi):
    return Order.objects.filter(paid_at__gte=lo, paid_at__lt=hi)


def granted_refunds(lo, hi):
    return AfterSale.objects.filter(status__in=GRANTED, decided_at__gte=lo, decided_at__lt=hi)


def accrued_commissions(lo, hi):
    return Commission.objects.filter(created_at__gte=lo, created_at__lt=hi)


def new_distributors(lo, hi):
    return Distributor.objects.filter(activated_at__gte=lo, activated_at__lt=hi)


def paid_withdrawals(lo, hi):
    return Withdrawal.objects.filter(status=Withdrawal.Status.PAID, paid_at__gte=lo, paid_at__lt=hi)
