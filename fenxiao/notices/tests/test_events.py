"""Each event tells the right person once, with the right text and amount, through the real
services: shipping, refunds, commissions, settlement, withdrawals, applications."""

import pytest

from fenxiao.distribution.models import Distributor
from fenxiao.distribution.services import distributors
from fenxiao.distribution.tests.helpers import (
    bound_buyer,
    buy,
    configure,
    earn,
    ledger_sum,
    line,
    make_distributor,
    receive,
    settle_now,
    ship,
    sku,
    staff_refund,
    superuser,
)
from fenxiao.testing import api_for, make_buyer, make_product, make_staff

from .helpers import deliveries_of, notices_of

pytestmark = pytest.mark.django_db

ALIPAY = {"name": "王五", "account": "wangwu@example.com"}


def test_shipping_tells_the_buyer_once_with_carrier_and_tracking_number():
    buyer = make_buyer()
    order = ship(buy(buyer, (sku(make_product(price=5000)), 1)))
    assert notices_of(buyer) == [
        (
            "order_shipped",
            "订单已发货",
            f"您的订单 {order.number} 已发货，顺丰速运 运单号 {order.tracking_number}，请留意查收。",
        )
    ]
    # The sandbox SMS and WeChat channels carried it, after the shipment committed.
    assert deliveries_of(buyer) == [("order_shipped", "sms", "sent"), ("order_shipped", "wechat", "sent")]


def test_a_refund_tells_the_buyer_when_the_money_is_back():
    buyer = make_buyer()
    order = buy(buyer, (sku(make_product(price=12345)), 2))
    reply = staff_refund(order, {"line_id": line(order).pk, "quantity": 1, "amount": 12345})
    assert notices_of(buyer, "refund_done") == [
        (
            "refund_done",
            "退款成功",
            f"您的售后 {reply['number']}（订单 {order.number}）已退款 ¥123.45，款项按原支付方式退回。",
        )
    ]


def test_a_paid_order_tells_each_earning_distributor_once_with_their_total():
    a = make_distributor()
    b = make_distributor(parent=a)
    cheap, dear = make_product(price=3000), make_product(price=7000)
    buy(bound_buyer(b), (sku(cheap), 1), (sku(dear), 2))  # ¥170.00 over two lines
    text = "您推广的订单已付款，预计佣金 {}，订单完成并过售后期后结算到可提现余额。"
    # Level 1 earns 10%, level 2 earns 5%: one notice each, summed over both lines.
    assert notices_of(b.user) == [("commission_arrived", "有新的佣金", text.format("¥17.00"))]
    assert notices_of(a.user) == [("commission_arrived", "有新的佣金", text.format("¥8.50"))]


def test_a_settlement_run_tells_each_distributor_their_total_once():
    a = make_distributor()
    b = make_distributor(parent=a)
    lamp = make_product(price=10000)
    for _ in range(3):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))
    batch = settle_now()
    assert batch.commission_count == 6
    assert notices_of(b.user, "commission_settled") == [
        ("commission_settled", "佣金已结算", "本次结算佣金 ¥30.00，已计入可提现余额。")
    ]
    assert notices_of(a.user, "commission_settled") == [
        ("commission_settled", "佣金已结算", "本次结算佣金 ¥15.00，已计入可提现余额。")
    ]
    assert (ledger_sum(b), ledger_sum(a)) == (3000, 1500)
    assert settle_now() is None  # nothing left: no second notice
    assert len(notices_of(b.user, "commission_settled")) == 1


@pytest.fixture
def rich():
    """A distributor with ¥100.00 settled."""
    distributor = make_distributor()
    earn(distributor, 100000)
    return distributor


def _ask(distributor, amount, method="alipay"):
    reply = api_for(distributor.user).post(
        "/distribution/withdrawals", {"amount": amount, "method": method, "account": ALIPAY}
    )
    assert reply.status_code == 201, reply.content
    return reply.json()["number"]


def test_a_paid_withdrawal_tells_the_distributor_what_was_paid():
    configure(withdraw_fee_bp=100)
    distributor = make_distributor()
    earn(distributor, 100000)
    number = _ask(distributor, 2500)
    finance = api_for(make_staff(perms=["distribution.change_withdrawal"]))
    assert finance.post(f"/staff/distribution/withdrawals/{number}/approve").status_code == 200
    assert notices_of(distributor.user, "withdrawal_paid") == [
        ("withdrawal_paid", "提现已到账", f"您的提现 {number} 已打款 ¥24.75，请注意查收。")
    ]


def test_a_rejected_withdrawal_tells_the_distributor_why_and_that_the_money_is_back(rich):
    number = _ask(rich, 3000)
    finance = api_for(make_staff(perms=["distribution.change_withdrawal"]))
    reply = finance.post(f"/staff/distribution/withdrawals/{number}/reject", {"reason": "收款人与实名不符"})
    assert reply.status_code == 200
    assert notices_of(rich.user, "withdrawal_rejected") == [
        (
            "withdrawal_rejected",
            "提现未通过",
            f"您的提现 {number} 未通过审核：收款人与实名不符。¥30.00 已退回可提现余额。",
        )
    ]
    assert notices_of(rich.user, "withdrawal_paid") == []


def test_an_application_decision_tells_the_applicant_each_time():
    configure(enable_mode="apply", review_mode="manual")
    applicant = make_buyer()
    distributors.apply(applicant, real_name="李四")
    pending = Distributor.objects.get(user=applicant)
    distributors.reject(pending, superuser(), reason="资料不完整")
    distributors.apply(applicant, real_name="李四")  # applies again, and is approved
    distributors.approve(Distributor.objects.get(user=applicant), superuser())
    assert notices_of(applicant) == [
        (
            "distributor_rejected",
            "分销商申请未通过",
            "很抱歉，您的分销商申请未通过：资料不完整。您可以完善信息后再次申请。",
        ),
        (
            "distributor_approved",
            "分销商申请已通过",
            "恭喜您成为分销商！分享商品给好友，好友下单后您即可获得佣金。",
        ),
    ]


def test_a_rolled_back_shipment_leaves_no_notice():
    from django.db import transaction

    buyer = make_buyer()
    order = buy(buyer, (sku(make_product(price=5000)), 1))

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        ship(order)
        raise Abort
    assert notices_of(buyer) == []
    assert deliveries_of(buyer) == []
