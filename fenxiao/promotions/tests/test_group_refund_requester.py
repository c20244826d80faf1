"""A failed group buy's refund is the system's doing, not the buyer's: its after-sale is
recorded as 系统 and says 系统发起, and the risk check's refund ratio (the buyer's own
refunds) leaves it out."""

import pytest
from django.utils import translation

from fenxiao.orders.models import ActorKind, AfterSale, AfterSaleLog, OrderEvent
from fenxiao.promotions.services import group_failures

from .test_groups import failed_group_of

pytestmark = pytest.mark.django_db


def test_a_failed_group_refund_is_started_by_the_system():
    _, _group, (paid, _unpaid) = failed_group_of(2, paid=1)
    group_failures.sweep()

    after_sale = AfterSale.objects.get(order=paid)
    assert after_sale.requested_by == ActorKind.SYSTEM
    event = OrderEvent.objects.get(order=paid, kind="after_sale_requested")
    assert event.actor_kind == ActorKind.SYSTEM
    assert event.message.startswith("系统发起仅退款 ")
    first = AfterSaleLog.objects.filter(after_sale=after_sale).earliest("id")
    with translation.override("en"):
        assert first.text.startswith("The system started an after-sale (Refund only)")


def test_the_buyers_refund_ratio_leaves_a_failed_group_out():
    from types import SimpleNamespace

    from fenxiao.distribution.services import risk

    _, _group, (paid, _unpaid) = failed_group_of(2, paid=1)
    group_failures.sweep()
    assert AfterSale.objects.get(order=paid).status == AfterSale.Status.REFUNDED
    # The buyer's next order: one earlier paid order, refunded, but not at their request.
    later = SimpleNamespace(pk=0, buyer_id=paid.buyer_id)
    strict = SimpleNamespace(risk_refund_orders=1, risk_refund_rate_bp=1)
    assert risk._refund_history(later, strict) == ""
