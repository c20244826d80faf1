"""Records read naturally where the backend names them (page titles, inline row titles):
amounts in ¥, orders by their number, never a database id or a sum in fen."""

import pytest

from fenxiao.distribution.models import Commission, CommissionAdjustment, LedgerEntry
from fenxiao.orders.models import Order
from fenxiao.testing import make_product

from .helpers import bound_buyer, buy, commission, line, receive, sku, staff_refund


def test_ledger_rows_adjustments_and_commissions_read_in_yuan_with_the_order_number():
    assert str(LedgerEntry(kind="withdrawal_hold", amount=-5000)) == "提现冻结 -¥50.00"
    assert str(LedgerEntry(kind="commission", amount=358)) == "佣金结算 +¥3.58"
    assert str(CommissionAdjustment(kind="reduced", amount=359)) == "部分退款按比例扣减 -¥3.59"
    paid = Commission(order=Order(number="FX20260101000032"), level=1, amount=400, reversed_amount=42)
    paid.order_line_id = 7
    assert str(paid) == "订单 FX20260101000032 · 1级佣金 ¥3.58"
    till = Commission(offline_ref="S-1:2", offline_label="门店收银单 S-1", level=2, amount=100)
    assert str(till) == "门店收银单 S-1 · 2级佣金 ¥1.00"


@pytest.mark.django_db
def test_a_refund_adjustment_names_the_order_by_its_number(chain):
    _a, b = chain
    cup = make_product("杯子", price=3333)
    order = receive(buy(bound_buyer(b), (sku(cup), 3)))
    staff_refund(order, {"line_id": line(order).pk, "quantity": 1})

    note = commission(order, 1).adjustments.get().note
    assert note.startswith(f"订单 {order.number} 商品退款")
