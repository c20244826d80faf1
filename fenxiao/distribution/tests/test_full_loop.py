"""The distribution loop end to end through the API, with every fen computed by hand."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from fenxiao.catalog.models import Category
from fenxiao.distribution.models import (
    Commission,
    CommissionRule,
    Distributor,
    LedgerEntry,
    RuleKind,
)
from fenxiao.distribution.services import config, settlement
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import lifecycle
from fenxiao.testing import api_for, make_address, make_product, make_staff

from .helpers import pay_through_api, register_through, user_of

pytestmark = pytest.mark.django_db


def test_recruit_share_buy_settle_withdraw():
    staff = make_staff(superuser=True)
    staff_api = api_for(staff)
    config.update_settings(
        staff,
        levels=2,
        enable_mode="apply",
        review_mode="auto",
        require_real_name=False,
        bind_mode="first",
        self_purchase=False,
        level1_bp=1000,
        level2_bp=500,
        freeze_days=7,
        withdraw_min=100,
        withdraw_fee_bp=100,
    )
    OrderSettings.objects.create(shipping_fee=1000, free_shipping_threshold=0)

    # A is designated by the merchant.
    a_client = register_through(None, "13900000001")
    a_user = a_client.get("/me").json()
    reply = staff_api.post("/staff/distribution/distributors", {"user_id": a_user["id"]})
    assert reply.status_code == 201, reply.content
    a = Distributor.objects.get(user_id=a_user["id"])

    # A recruits B: B arrives through A's link, registers, applies (auto review).
    b_client = register_through(f"/r/{a.referral_code}", "13900000002")
    applied = b_client.post("/distribution/apply", {"real_name": "", "note": ""})
    assert applied.status_code == 201, applied.content
    assert applied.json()["status"] == "active"
    b = Distributor.objects.get(user__phone="13900000002")
    assert b.parent_id == a.pk

    # Buyer C arrives through B's QR code.
    c_client = register_through(f"/r/{b.referral_code}?src=qr&to=/", "13900000003")
    assert Distributor.objects.filter(user__phone="13900000003").count() == 0

    # Rules: a fixed per-unit product rule and a category rule.
    clothes, digital = Category.objects.create(name="服装"), Category.objects.create(name="数码")
    shirt = make_product("T恤", category=clothes, price=9900, stock=10)
    earbuds = make_product(
        "耳机", category=Category.objects.create(name="耳机", parent=digital), price=12345, stock=10
    )
    config.save_rule(
        CommissionRule(name="T恤固定佣金", product=shirt, kind=RuleKind.FIXED, level1=500, level2=200)
    )
    config.save_rule(
        CommissionRule(name="数码类", category=digital, kind=RuleKind.RATE, level1=1500, level2=300)
    )

    address = make_address(user_of(c_client))
    placed = c_client.post(
        "/checkout",
        {
            "lines": [
                {"sku_id": shirt.skus.get().pk, "quantity": 2},
                {"sku_id": earbuds.skus.get().pk, "quantity": 1},
            ],
            "address_id": address.pk,
        },
    )
    assert placed.status_code == 201, placed.content
    number = placed.json()["number"]
    assert placed.json()["total"] == 9900 * 2 + 12345 + 1000
    pay_through_api(c_client, number)

    # Pending (estimated) commission, computed by hand:
    #   B, level 1: shirt 5.00 × 2 = 1000; earbuds 12345 × 15% = 1851.75 → 1851
    #   A, level 2: shirt 2.00 × 2 = 400;  earbuds 12345 × 3% = 370.35 → 370
    b_expected, a_expected = 1000 + 1851, 400 + 370
    b_api = b_client
    dash = b_api.get("/distribution/dashboard").json()
    assert dash["commission_pending"] == b_expected
    assert dash["commission_available"] == 0
    assert dash["bound_buyers"] == 1
    whys = [c["why"] for c in b_api.get("/distribution/commissions").json()["items"]]
    assert any("¥5.00/件 × 2件" in w and "= ¥10.00" in w for w in whys)
    assert any("15%" in w and "= ¥18.51" in w for w in whys)

    order = Order.objects.get(number=number)
    lifecycle.ship(order, staff, carrier="顺丰速运", tracking_number="SF100")
    assert c_client.post(f"/orders/{number}/confirm-receipt").status_code == 200
    assert set(Commission.objects.values_list("status", flat=True)) == {"frozen"}

    assert settlement.settle_due(timezone.now() + timedelta(days=6)) is None  # still frozen
    # The 7-day freeze is over, but the buyer's 15-day after-sale window is still open.
    assert settlement.settle_due(timezone.now() + timedelta(days=14)) is None
    batch = settlement.settle_due(timezone.now() + timedelta(days=15, minutes=1))
    assert batch.commission_count == 4
    assert batch.total == b_expected + a_expected
    assert settlement.settle_due(timezone.now() + timedelta(days=16)) is None  # settled once

    a_dash = api_for(a.user).get("/distribution/dashboard").json()
    assert a_dash["commission_available"] == a_expected
    assert a_dash["team_direct"] == 1
    assert b_api.get("/distribution/dashboard").json()["commission_available"] == b_expected

    # B withdraws ¥20.00 to Alipay; 1% fee; finance approves; the sandbox pays out.
    reply = b_api.post(
        "/distribution/withdrawals",
        {"amount": 2000, "method": "alipay", "account": {"name": "王五", "account": "b@alipay.com"}},
    )
    assert reply.status_code == 201, reply.content
    withdrawal = reply.json()
    assert (withdrawal["fee"], withdrawal["payout"]) == (20, 1980)
    approved = staff_api.post(f"/staff/distribution/withdrawals/{withdrawal['number']}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "paid"

    b_dash = b_api.get("/distribution/dashboard").json()
    assert b_dash["commission_available"] == b_expected - 2000
    assert b_dash["commission_withdrawn"] == 2000
    for distributor in (a, b):
        ledger_sum = LedgerEntry.objects.filter(distributor=distributor).aggregate(s=Sum("amount"))["s"]
        assert ledger_sum == api_for(distributor.user).get("/distribution/balance").json()["available"]
