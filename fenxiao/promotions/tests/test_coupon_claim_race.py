"""A buyer claiming a coupon while staff issue the same coupon to them never ends up over
the coupon's 每人限领 (PostgreSQL, real threads: on SQLite writes are serialised anyway)."""

import threading
import time

from django.db import transaction

from fenxiao.core.errors import DomainError
from fenxiao.promotions.models import BuyerCoupon, Coupon
from fenxiao.promotions.services import coupons
from fenxiao.testing import make_buyer, make_staff, postgres_only_marks, run_together

from .factories import make_coupon

pytestmark = postgres_only_marks()


def test_a_claim_racing_staff_issuing_the_same_coupon_stays_within_the_limit():
    buyer, staff = make_buyer(), make_staff()
    coupon = make_coupon(amount=500, min_spend=1000, total_quantity=10, per_buyer_limit=1)
    issued = threading.Event()

    def work(i):
        if i == 0:
            with transaction.atomic():
                log = coupons.issue(coupon, [buyer.pk], staff, audience="13800000000")
                issued.set()
                time.sleep(1)  # the claim below reads the buyer's copies meanwhile, then waits
            return log.issued
        assert issued.wait(10)
        try:
            return coupons.claim(buyer, coupon.pk)
        except DomainError as error:
            return error.code

    results = run_together(2, work)

    assert results == [1, "COUPON_LIMIT_REACHED"], results
    assert BuyerCoupon.objects.filter(coupon=coupon, buyer=buyer).count() == 1
    assert Coupon.objects.get(pk=coupon.pk).issued == 1
