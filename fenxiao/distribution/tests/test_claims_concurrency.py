"""Two staff approve rival claims on one order at the same moment (PostgreSQL): one wins,
the other is told the claim was answered, and the order's commission moves once."""

import threading

from django.db import close_old_connections

from fenxiao.core.errors import DomainError
from fenxiao.distribution.models import ClaimStatus, CommissionStatus, OrderClaim
from fenxiao.distribution.services import claims, totals
from fenxiao.testing import postgres_only_marks

from .helpers import bound_buyer, buy, make_distributor, sku, superuser

pytestmark = postgres_only_marks()


def test_rival_approvals_move_the_order_once(lamp):
    seller = make_distributor()
    order = buy(bound_buyer(seller), (sku(lamp), 1))
    rivals = [make_distributor(), make_distributor()]
    filed = [
        claims.file(d, order_number=order.number, phone_tail=order.buyer.phone[-4:], reason="海报")
        for d in rivals
    ]
    staff = superuser()
    start = threading.Barrier(2)
    outcomes = []

    def approve(claim):
        try:
            start.wait(5)
            claims.approve(claim, staff)
            outcomes.append("approved")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=approve, args=(c,)) for c in filed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["CLAIM_DECIDED", "approved"]
    statuses = sorted(OrderClaim.objects.values_list("status", flat=True))
    assert statuses == [ClaimStatus.APPROVED, ClaimStatus.REJECTED]
    live = order.commissions.exclude(status=CommissionStatus.CANCELLED)
    assert live.count() == 1 and live.get().distributor_id in {d.pk for d in rivals}
    assert not totals.mismatches([seller.pk, *(d.pk for d in rivals)])
