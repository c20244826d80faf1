"""POS requests racing on PostgreSQL (real threads, each on its own connection): one sale sent
by a till several times at once is recorded and counted once, every copy getting the same
answer; one signed request replayed at once passes once; returns of one sale racing each other
never give back more than it had."""

import time

from fenxiao.customers.models import CustomerFigures
from fenxiao.distribution.models import Commission
from fenxiao.distribution.tests.helpers import assert_totals_match_history
from fenxiao.stores.models import OfflineRefund, OfflineSale, OfflineSaleLine, PosIdempotency
from fenxiao.stores.services import pos_keys
from fenxiao.testing import assert_refused, make_buyer, postgres_only_marks, run_together

from .pos_till import Till, make_store, sale
from .test_pos_refunds import open_shop, refund

pytestmark = postgres_only_marks()


def test_one_sale_sent_at_once_by_retrying_tills_is_counted_once():
    till = Till(make_store())
    buyer = make_buyer()
    body = sale("RACE-1", buyer.phone, 8800)
    replies = run_together(8, lambda i: till.call("POST", "/sales", body))
    assert [r.status_code for r in replies] == [200] * 8, [r.content for r in replies]
    assert len({r.content for r in replies}) == 1
    assert OfflineSale.objects.filter(sale_no="RACE-1").count() == 1
    assert PosIdempotency.objects.count() == 1
    row = CustomerFigures.objects.get(user=buyer)
    assert (row.paid_orders, row.total_spend) == (1, 8800)


def test_one_signed_request_replayed_at_once_passes_once():
    till = Till(make_store())
    timestamp = int(time.time())
    replies = run_together(
        6, lambda i: till.call("GET", "/members", timestamp=timestamp, nonce="same-nonce-race")
    )
    assert sorted(r.status_code for r in replies) == [200] + [401] * 5
    for reply in replies:
        if reply.status_code == 401:
            assert_refused(reply, 401, "POS_REQUEST_REPLAYED")
    assert pos_keys.sweep_nonces() == 0  # still inside the window: kept


def test_returns_of_one_sale_racing_each_other_never_give_back_more_than_it_had():
    shop = open_shop()
    one_cup = [{"sku_code": shop["code"], "quantity": 1, "amount": 4000}]
    replies = run_together(6, lambda i: refund(shop, f"R-{i}", one_cup))
    assert sorted(r.status_code for r in replies) == [200, 200] + [409] * 4, [r.content for r in replies]
    for reply in replies:
        if reply.status_code == 409:
            assert_refused(reply, 409, "POS_REFUND_EXCEEDS_SALE")
    cup = OfflineSaleLine.objects.get(sku_code=shop["code"])
    assert (cup.refunded_quantity, cup.refunded_amount) == (2, 8000)
    assert OfflineRefund.objects.count() == 2
    # 1499 × 1999 // 9999 = 299; 499 × 1999 // 9999 = 99
    assert sorted(Commission.objects.values_list("level", "amount", "reversed_amount")) == [
        (1, 1499, 1499 - 299),
        (2, 499, 499 - 99),
    ]
    row = CustomerFigures.objects.get(user=shop["member"])
    assert (row.total_spend, row.refunded) == (12999 - 8000, 8000)
    assert_totals_match_history()
