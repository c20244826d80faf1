"""One buyer's payments committing at the same time all count in their figures (the
increments are row-locked upserts), and a rebuild racing them does not lose any."""

from django.db import transaction

from fenxiao.customers.models import CustomerFigures
from fenxiao.customers.services import figures as service
from fenxiao.distribution.tests.helpers import place, sku
from fenxiao.testing import make_buyer, make_product, pay_in_sandbox, postgres_only_marks, run_together

pytestmark = postgres_only_marks()


def test_racing_payments_of_one_buyer_all_count_and_a_racing_rebuild_keeps_them():
    buyer = make_buyer()
    product = make_product(price=2500, stock=100)
    orders = [place(buyer, (sku(product), 1)) for _ in range(6)]

    def work(i):
        if i == len(orders):
            with transaction.atomic():
                service.rebuild(chunk=100)
            return "rebuilt"
        pay_in_sandbox(orders[i])
        return "paid"

    results = run_together(len(orders) + 1, work)
    assert results.count("paid") == 6 and "rebuilt" in results, results
    row = CustomerFigures.objects.get(user=buyer)
    assert (row.paid_orders, row.total_spend) == (6, 15000)
