"""作废 racing the auto-complete sweep (PostgreSQL): the sweep reads a commission's amount
under its order's lock and moves it to frozen after; a void in between must wait for the
order, or the running totals would count the commission twice."""

import threading

from django.db import close_old_connections, transaction
from django.utils import timezone

from fenxiao.distribution.models import Commission, CommissionStatus, RiskReview
from fenxiao.distribution.services import commissions, risk, totals
from fenxiao.orders.models import Order
from fenxiao.testing import make_address, postgres_only_marks

from .helpers import bound_buyer, buy, make_distributor, ship, sku, superuser

pytestmark = postgres_only_marks()


def test_a_void_waits_for_the_sweep_that_is_freezing_its_order(lamp, monkeypatch):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone)
    order = ship(buy(buyer, (sku(lamp), 1)))
    review = RiskReview.objects.get(order=order)
    staff = superuser()
    read, voided = threading.Event(), threading.Event()
    moves = totals.commission_moves

    def slow_moves(*args, **kwargs):
        out = moves(*args, **kwargs)
        read.set()
        voided.wait(3)  # the void gets its chance to slip in (it must not)
        return out

    monkeypatch.setattr(totals, "commission_moves", slow_moves)

    def sweep():
        try:
            with transaction.atomic():
                list(Order.objects.select_for_update().filter(pk=order.pk))  # as the sweep's chunk does
                commissions.freeze_for_completed_orders([order.pk], timezone.now())
        finally:
            close_old_connections()

    def void():
        try:
            read.wait(10)
            risk.void(review, staff, note="刷单")
        finally:
            voided.set()
            close_old_connections()

    threads = [threading.Thread(target=sweep), threading.Thread(target=void)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Commission.objects.get(order=order).status == CommissionStatus.CANCELLED
    assert not totals.mismatches([seller.pk])
