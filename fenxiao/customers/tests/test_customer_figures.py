"""Per-customer figures: kept by the payment and refund hooks, equal to a rebuild."""

from fenxiao.customers.models import CustomerFigures, RegistrationSource
from fenxiao.customers.services import figures as service
from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor
from fenxiao.testing import make_buyer

from .crm import figures, full_refund, paid


def test_paid_orders_and_refunds_move_the_figures_and_a_rebuild_agrees(db):
    buyer, first = paid(price=12000)
    _, second = paid(buyer, price=3000)
    row = figures(buyer)
    assert (row.paid_orders, row.total_spend, row.refunded) == (2, 15000, 0)
    assert row.first_paid_at == first.paid_at and row.last_paid_at == second.paid_at
    full_refund(second)
    row.refresh_from_db()
    assert (row.paid_orders, row.total_spend, row.refunded) == (2, 12000, 3000)
    kept = list(
        CustomerFigures.objects.values_list(
            "user_id", "paid_orders", "total_spend", "refunded", "last_paid_at"
        )
    )
    CustomerFigures.objects.all().delete()
    service.rebuild(chunk=1)
    rebuilt = list(
        CustomerFigures.objects.filter(paid_orders__gt=0).values_list(
            "user_id", "paid_orders", "total_spend", "refunded", "last_paid_at"
        )
    )
    assert sorted(rebuilt) == sorted(kept)


def test_registration_source_is_the_touch_that_came_with_registration(db):
    distributor = make_distributor()
    referred = bound_buyer(distributor, source="qr")
    direct = make_buyer()
    service.add_new_buyers()
    assert figures(referred).source == RegistrationSource.QR
    assert figures(referred).source_distributor_id == distributor.pk
    # No touch yet, and the registration window still open: not decided.
    assert figures(direct).source == ""
    from datetime import timedelta

    from django.utils import timezone

    service.settle_sources(now=timezone.now() + timedelta(hours=1))
    assert figures(direct).source == RegistrationSource.DIRECT
