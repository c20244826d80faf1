"""Abuse guards (风控): a paid order whose buyer looks like its distributor under a second
account, whose chain is one person at two levels, or whose buyer refunds most of what they
buy holds that commission for review; staff clear it (it settles) or void it (cancelled)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.analytics.models import CommissionDay
from fenxiao.analytics.services import aggregates, todo
from fenxiao.core.errors import DomainError
from fenxiao.customers.models import SignInDevice
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, role_permissions
from fenxiao.distribution.models import (
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    RiskReview,
    RiskReviewStatus,
    RiskTrust,
)
from fenxiao.distribution.services import (
    compliance,
    config,
    distributors,
    reconciliation,
    risk,
    settlement,
    totals,
)
from fenxiao.orders.services import after_sales
from fenxiao.testing import api_for, login, make_address, make_product, make_staff

from .backend import credit, list_url, request_withdrawal, url
from .helpers import (
    after_freeze,
    bound_buyer,
    buy,
    commission,
    configure,
    full_refund,
    ledger_sum,
    make_distributor,
    receive,
    settle_now,
    sku,
    staff_refund,
    superuser,
)

pytestmark = pytest.mark.django_db

DEVICE = "0123456789abcdef" * 2
BANK = {"name": "王五", "bank": "招商银行", "account": "6225000000000009"}


def review_of(order) -> RiskReview:
    return RiskReview.objects.get(order=order)


def held(order) -> set[int]:
    return set(
        Commission.objects.filter(order=order, under_review=True).values_list("distributor_id", flat=True)
    )


def held_on_compliance_page() -> tuple[int, int]:
    sales = next(section for section in compliance.summary().sections if section.key == "sales")
    figure = next(f for f in sales.figures if f.label == "风控暂扣、待审核的佣金")
    return figure.count, figure.amount


def test_an_order_shipped_to_the_distributors_own_phone_is_held_and_settles_once_cleared(lamp):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone, detail="文二路 8 号")
    order = receive(buy(buyer, (sku(lamp), 1)))

    review = review_of(order)
    assert (review.distributor, review.buyer, review.status) == (seller, buyer, RiskReviewStatus.OPEN)
    assert review.signal_values == ["same_phone"] and review.held_amount == 1000
    assert "一级分销商" in review.evidence[0] and seller.user.phone[-4:] in review.evidence[0]
    assert held(order) == {seller.pk}

    settle_now()  # the hold has ended, but the review holds it
    line = commission(order, 1)
    assert (line.status, ledger_sum(seller)) == (CommissionStatus.FROZEN, 0)
    item = api_for(seller.user).get("/distribution/commissions").json()["items"][0]
    assert item["under_review"] and "风控审核" in item["why"]

    risk.clear(review, superuser(), note="家人代收，核实无误")
    settle_now()
    line.refresh_from_db()
    assert (line.status, line.under_review, ledger_sum(seller)) == (CommissionStatus.SETTLED, False, 1000)
    assert line.adjustments.get().kind == CommissionAdjustment.Kind.RISK_CLEARED
    review.refresh_from_db()
    assert review.status == RiskReviewStatus.CLEARED and review.note == "家人代收，核实无误"
    assert not totals.mismatches([seller.pk])


def test_an_address_from_the_distributors_address_book_is_held(lamp):
    seller = make_distributor()
    make_address(seller.user, detail="文三路 100 号 3 幢")
    buyer = bound_buyer(seller)
    make_address(buyer, detail="文三路100号3幢", recipient="李四", phone="13700000001")  # typed apart
    order = buy(buyer, (sku(lamp), 1))
    assert review_of(order).signal_values == ["same_address"]
    assert "文三路100号3幢" in review_of(order).evidence[0]
    # Delivered elsewhere to a phone from the distributor's address book.
    buyer.addresses.update(detail="学院路 1 号", phone="13800138000")
    assert RiskReview.objects.get(order=buy(buyer, (sku(lamp), 1))).evidence == [
        "一级分销商：收货手机号 138****8000 在其地址簿中"
    ]


def test_a_buyer_who_signed_in_on_the_distributors_device_is_held(lamp):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    # The distributor signs in on the H5 pages (the visitor cookie), the buyer in the app
    # (the visitor header), on one phone.
    browser = Client()
    browser.cookies["fx_vid"] = DEVICE
    signed_in = browser.post("/login/", {"phone": seller.user.phone, "password": "Buyer#2026"})
    assert signed_in.status_code == 302
    reply = Client().post(
        "/api/v1/auth/login",
        {"phone": buyer.phone, "password": "Buyer#2026"},
        content_type="application/json",
        HTTP_X_FENXIAO_VISITOR=DEVICE,
    )
    assert reply.status_code == 200
    assert SignInDevice.objects.filter(device=DEVICE).count() == 2

    order = buy(buyer, (sku(lamp), 1))
    assert review_of(order).signal_values == ["same_device"]


def test_a_second_account_paid_to_the_same_payout_account_is_held(lamp):
    """The distributor's own second account, enrolled under them, buys with self-purchase
    off: level 1 is the first account, which shares its payout account."""
    first = make_distributor()
    second = make_distributor(parent=first)
    for account, spelled in ((first, "wang@alipay.com"), (second, " Wang@Alipay.com")):
        credit(account, 5000)
        request_withdrawal(account, account={"name": "王五", "account": spelled})
    order = buy(second.user, (sku(lamp), 1))
    review = review_of(order)
    assert review.distributor == first and review.signal_values == ["same_payout"]
    assert "支付宝账户" in review.evidence[0]


def test_a_second_account_paid_to_the_same_wechat_user_is_held(lamp):
    """WeChat 商家转账 pays by openid: two accounts withdrawing to one WeChat user's 零钱
    are one wallet, though neither typed an account number."""
    first = make_distributor()
    second = make_distributor(parent=first)
    for account in (first, second):
        credit(account, 5000)
        withdrawal = request_withdrawal(account, method="bank", account=BANK)
        type(withdrawal).objects.filter(pk=withdrawal.pk).update(
            method="wechat", account={"name": "王五", "openid": "o-same-wechat-user"}
        )
    order = buy(second.user, (sku(lamp), 1))
    review = review_of(order)
    assert review.distributor == first and review.signal_values == ["same_payout"]
    assert "微信账户" in review.evidence[0]


def test_one_person_at_two_levels_holds_both(lamp):
    top = make_distributor()
    child = make_distributor(parent=top)
    for account in (top, child):
        credit(account, 5000)
        request_withdrawal(
            account,
            account={"name": "王五", "bank": "招商银行", "account": "6225 0000 0000 0001"},
            method="bank",
        )
    order = buy(bound_buyer(child), (sku(lamp), 1))  # an ordinary buyer
    assert held(order) == {top.pk, child.pk}
    for review in RiskReview.objects.filter(order=order):
        assert review.signal_values == ["circular"]
        assert review.evidence == ["一级与二级分销商提现到同一银行卡账户 622***001"]


def buyer_refund(order):
    """The buyer asks for their money back (仅退款) and the merchant grants it."""
    asked = after_sales.request_after_sale(
        order,
        order.buyer,
        kind="refund_only",
        reason="不想要了",
        lines=[{"line_id": line.pk} for line in order.lines.all()],
    )
    after_sales.approve(asked, superuser())


def test_a_buyer_who_refunds_most_orders_is_held_from_the_threshold(lamp):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    for _ in range(2):
        buyer_refund(buy(buyer, (sku(lamp), 1)))
    full_refund(buy(buyer, (sku(lamp), 1)))  # the merchant's own refund is not the buyer's doing
    below = buy(buyer, (sku(lamp), 1))  # 2 of 3 asked for: below the 3 orders
    assert not RiskReview.objects.filter(order=below).exists()
    buyer_refund(below)
    order = buy(buyer, (sku(lamp), 1))  # 3 of 4, 75 %
    review = review_of(order)
    assert review.signal_values == ["refund_abuse"]
    assert review.evidence == ["买家近 90 天 4 笔付款订单中 3 笔由买家申请退款"]

    configure(risk_refund_rate_bp=8000)  # 3 of 5 is now below the rate
    assert not RiskReview.objects.filter(order=buy(buyer, (sku(lamp), 1))).exists()
    configure(risk_refund_orders=0, risk_refund_rate_bp=0)
    assert not RiskReview.objects.filter(order=buy(buyer, (sku(lamp), 1))).exists()


def test_family_in_one_team_and_a_line_paying_nothing_hold_nothing(lamp):
    """A recruiter who once shipped a gift to the relative they recruited, or who shares
    a tablet with them, is no second account: their team's ordinary orders are not held."""
    parent = make_distributor()
    child = make_distributor(parent=parent)
    make_address(parent.user, phone=child.user.phone, detail="家里")
    browser = Client()
    browser.cookies["fx_vid"] = DEVICE
    for who in (parent, child):
        assert browser.post("/login/", {"phone": who.user.phone, "password": "Buyer#2026"}).status_code == 302
    order = buy(bound_buyer(child), (sku(lamp), 1))
    assert not RiskReview.objects.filter(order=order).exists()

    # A flagged distributor whose line the guard trimmed to ¥0 has nothing to hold.
    buyer = bound_buyer(parent)
    make_address(buyer, phone=parent.user.phone)
    trimmed = [Commission(distributor=parent, level=1, amount=0, capped=500)]
    assert risk.screen(order, [(1, parent)], trimmed, config.current()) == []
    assert not trimmed[0].under_review


def test_voiding_cancels_the_held_commission_once(lamp):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone)
    order = receive(buy(buyer, (sku(lamp), 1)))
    review = review_of(order)
    staff = superuser()
    assert held_on_compliance_page() == (1, 1000)

    with pytest.raises(DomainError) as refused:
        risk.void(review, staff, note=" ")
    assert refused.value.code == "REASON_REQUIRED"
    risk.void(review, staff, note="自买自卖刷单")
    line = commission(order, 1)
    assert (line.status, line.reversed_amount, line.under_review) == (CommissionStatus.CANCELLED, 1000, False)
    assert line.adjustments.get().note == "风控作废：自买自卖刷单"
    aggregates.rebuild(timezone.localdate(), timezone.localdate())
    day = CommissionDay.objects.get(day=timezone.localdate())
    assert (day.accrued, day.reduced) == (1000, 1000)  # 分销报表 counts the void as a reduction
    item = api_for(seller.user).get("/distribution/commissions").json()["items"][0]
    assert item["why"].endswith("；风控审核作废 ¥10.00，实得 ¥0.00")
    assert held_on_compliance_page() == (0, 0)
    assert not totals.mismatches([seller.pk])
    with pytest.raises(DomainError) as twice:
        risk.clear(review, staff)
    assert twice.value.code == "RISK_REVIEW_DECIDED"
    settle_now()
    assert ledger_sum(seller) == 0
    full_refund(order)  # a later refund finds nothing left to reduce
    assert not totals.mismatches([seller.pk])


def test_a_review_whose_commission_a_refund_or_a_ban_cancelled_closes_itself(lamp):
    headphones = make_product("耳机", price=20000)
    seller = make_distributor()
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone)
    refunded = buy(buyer, (sku(lamp), 1))
    partly = buy(buyer, (sku(lamp), 1), (sku(headphones), 1))
    banned_too = buy(buyer, (sku(headphones), 1))

    full_refund(refunded)
    assert review_of(refunded).status == RiskReviewStatus.CLOSED
    assert review_of(refunded).note.startswith("暂扣的佣金已因退款") and review_of(refunded).decided_at
    staff_refund(partly, {"line_id": partly.lines.get(sku__product=lamp).pk})  # the other line is held
    assert review_of(partly).status == RiskReviewStatus.OPEN
    assert next(t for t in todo.for_user(superuser()) if t.key == "risk_reviews").count == 2

    distributors.ban(seller, None, decision="release", reason="停止合作")  # kept: still to decide
    assert review_of(banned_too).status == RiskReviewStatus.OPEN
    closed = make_distributor()
    other = bound_buyer(closed)
    make_address(other, phone=closed.user.phone)
    held_order = buy(other, (sku(lamp), 1))
    distributors.ban(closed, None, decision="void", reason="刷单")
    assert review_of(held_order).status == RiskReviewStatus.CLOSED
    with pytest.raises(DomainError) as decided:
        risk.clear(review_of(held_order), superuser())
    assert decided.value.code == "RISK_REVIEW_DECIDED"
    assert reconciliation.run().ok


def test_clean_orders_own_purchases_and_a_guard_turned_off_hold_nothing(lamp):
    seller = make_distributor()
    clean = buy(bound_buyer(seller), (sku(lamp), 1))
    configure(self_purchase=True)
    own = buy(seller.user, (sku(lamp), 1))  # self-purchase commission is the setting's call
    assert commission(own, 1).distributor == seller
    configure(risk_guard=False)
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone)
    unguarded = buy(buyer, (sku(lamp), 1))
    assert not RiskReview.objects.exists()
    assert not Commission.objects.filter(order__in=[clean, own, unguarded], under_review=True).exists()


def test_screening_reads_the_same_queries_whatever_the_history(lamp):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    order = buy(buyer, (sku(lamp), 1))
    beneficiaries = [(1, seller)]
    cfg = config.current()

    def queries() -> int:
        lines = [Commission(distributor=seller, amount=100)]
        with CaptureQueriesContext(connection) as ctx:
            risk.screen(order, beneficiaries, lines, cfg)
        return len(ctx.captured_queries)

    few = queries()
    configure(withdraw_limit=20)
    credit(seller, 100000)
    for i in range(12):
        # Nothing in common with the buyer's order: a signal that fires reads the trust list.
        make_address(seller.user, detail=f"文{i}路", phone="13911112222", is_default=False)
        make_address(buyer, detail=f"学院路 {i} 号", is_default=False)
        request_withdrawal(seller, amount=1000, account={"name": "王五", "account": f"w{i}@alipay.com"})
        SignInDevice.objects.create(user=buyer, device=f"{i:032x}", last_seen=order.created_at)
    assert queries() == few == 5


def test_staff_clear_and_void_from_the_backend(lamp):
    seller = make_distributor()
    orders = []
    for _ in range(3):
        buyer = bound_buyer(seller)
        make_address(buyer, phone=seller.user.phone)
        orders.append(buy(buyer, (sku(lamp), 1)))
    first, second, third = (review_of(order) for order in orders)

    finance = make_staff("finance")
    finance.user_permissions.set(role_permissions(FINANCE))
    client = login(finance)
    listing = client.get(list_url(RiskReview), {"status__exact": "open", "signal": "same_phone"})
    assert listing.status_code == 200
    page = listing.content.decode()
    assert all(order.number in page for order in orders) and "同一手机号" in page and "¥10.00" in page
    assert "待审核风控" in client.get("/backend/").content.decode()

    selected = {"index": "0", "_selected_action": [str(first.pk), str(second.pk)]}
    confirm = client.post(list_url(RiskReview), {"action": "clear_selected", **selected})
    assert confirm.status_code == 200 and "放行暂扣佣金" in confirm.content.decode()
    done = client.post(
        list_url(RiskReview),
        {"action": "clear_selected", "_confirm": "1", "reason": "已电话核实", **selected},
    )
    assert done.status_code == 302
    assert set(RiskReview.objects.filter(status="cleared").values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }

    detail = client.get(url(third)).content.decode()
    assert "收货手机号" in detail and "作废佣金" in detail
    refused = client.post(url(third, "void"), {"reason": ""})
    assert refused.status_code == 200 and RiskReview.objects.get(pk=third.pk).status == "open"
    voided = client.post(url(third, "void"), {"reason": "刷单"})
    assert voided.status_code == 302
    assert commission(orders[2], 1).status == CommissionStatus.CANCELLED

    operations = make_staff("ops")
    operations.user_permissions.set(role_permissions(OPERATIONS))
    assert login(operations).get(url(third)).status_code == 200
    viewer = login(make_staff("viewer", perms=["distribution.view_riskreview"]))
    assert viewer.get(list_url(RiskReview)).status_code == 200
    blocked = viewer.post(url(first, "void"), {"reason": "刷单"})
    assert blocked.status_code in (302, 403)
    assert login(make_staff("nobody")).get(list_url(RiskReview)).status_code == 403
    assert RiskReview.objects.get(pk=first.pk).status == "cleared"


def test_a_trusted_pair_is_not_held_again_until_the_trust_is_revoked(lamp):
    seller = make_distributor()
    family = bound_buyer(seller)
    make_address(family, phone=seller.user.phone)
    stranger = bound_buyer(seller)
    make_address(stranger, phone=seller.user.phone)
    first = buy(family, (sku(lamp), 1))

    finance = make_staff("finance")
    finance.user_permissions.set(role_permissions(FINANCE))
    client = login(finance)
    assert "信任该买家与分销商" in client.get(url(review_of(first), "clear")).content.decode()
    reply = client.post(url(review_of(first), "clear"), {"reason": "其母亲，电话核实", "trust": "on"})
    assert reply.status_code == 302
    trust = RiskTrust.objects.get()
    assert (trust.buyer, trust.distributor, trust.review, trust.note) == (
        family,
        seller,
        review_of(first),
        "其母亲，电话核实",
    )

    again = buy(family, (sku(lamp), 1))
    assert not RiskReview.objects.filter(order=again).exists() and not held(again)
    assert held(buy(stranger, (sku(lamp), 1))) == {seller.pk}  # another buyer, still held
    listing = client.get(list_url(RiskTrust)).content.decode()
    assert family.phone[-4:] in listing and first.number in listing

    revoked = client.post(
        list_url(RiskTrust), {"action": "revoke_selected", "index": "0", "_selected_action": [str(trust.pk)]}
    )
    assert revoked.status_code == 302 and not RiskTrust.objects.exists()
    assert held(buy(family, (sku(lamp), 1))) == {seller.pk}


def test_only_a_same_person_case_can_be_trusted(lamp):
    seller = make_distributor()
    order = buy(bound_buyer(seller), (sku(lamp), 1))
    review = risk.hold(order.pk, seller.pk, superuser(), reason="客户投诉")
    with pytest.raises(DomainError) as refused:
        risk.clear(review, superuser(), trust=True)
    assert refused.value.code == "TRUST_NOT_APPLICABLE" and not RiskTrust.objects.exists()
    assert review_of(order).status == RiskReviewStatus.OPEN  # nothing decided


def test_trust_does_not_cover_refund_abuse(lamp):
    configure(risk_refund_orders=2, risk_refund_rate_bp=5000)
    seller = make_distributor()
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone)
    risk.clear(review_of(buy(buyer, (sku(lamp), 1))), superuser(), trust=True)
    for _ in range(2):
        buyer_refund(buy(buyer, (sku(lamp), 1)))
    order = buy(buyer, (sku(lamp), 1))
    assert review_of(order).signal_values == ["refund_abuse"]


def test_finance_holds_a_commission_out_of_a_batch_under_review(lamp):
    configure(settlement_mode="manual")
    seller = make_distributor()
    doubtful = receive(buy(bound_buyer(seller), (sku(lamp), 1)))
    fine = receive(buy(bound_buyer(seller), (sku(lamp), 1)))
    staff = superuser()
    batch = settlement.create_batch(after_freeze(), staff=staff)
    assert (batch.commission_count, batch.total) == (2, 2000)

    finance = make_staff("finance")
    finance.user_permissions.set(role_permissions(FINANCE))
    client = login(finance)
    selected = {"index": "0", "_selected_action": [str(commission(doubtful, 1).pk)]}
    confirm = client.post(list_url(Commission), {"action": "hold_selected", **selected})
    assert confirm.status_code == 200 and "人工暂扣佣金" in confirm.content.decode()
    done = client.post(
        list_url(Commission),
        {"action": "hold_selected", "_confirm": "1", "reason": "客户投诉刷单", **selected},
    )
    assert done.status_code == 302
    batch.refresh_from_db()
    assert (batch.commission_count, batch.total) == (1, 1000)
    review = review_of(doubtful)
    assert (review.status, review.signal_values, review.held_amount) == (
        RiskReviewStatus.OPEN,
        ["manual"],
        1000,
    )
    assert "客户投诉刷单" in review.evidence[0]
    with pytest.raises(DomainError) as twice:
        risk.hold(doubtful.pk, seller.pk, staff, reason="再次")
    assert twice.value.code == "HOLD_ALREADY_HELD"

    settlement.approve_batch(batch, staff, now=after_freeze())
    assert (commission(fine, 1).status, commission(doubtful, 1).status) == ("settled", "frozen")
    assert settlement.create_batch(after_freeze(), staff=staff) is None  # held: in no batch
    risk.clear(review, staff, note="核实无误")
    later = settlement.create_batch(after_freeze(), staff=staff)
    settlement.approve_batch(later, staff, now=after_freeze())
    assert ledger_sum(seller) == 2000 and not totals.mismatches([seller.pk])
    with pytest.raises(DomainError) as settled:
        risk.hold(doubtful.pk, seller.pk, staff, reason="事后怀疑")
    assert settled.value.code == "HOLD_SETTLED"
    assert reconciliation.run().ok


def test_a_decided_case_is_reopened_by_a_hand_hold(lamp):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone)
    order = buy(buyer, (sku(lamp), 1))
    staff = superuser()
    risk.clear(review_of(order), staff, note="家人")
    assert not held(order)
    with pytest.raises(DomainError) as blank:
        risk.hold(order.pk, seller.pk, staff, reason=" ")
    assert blank.value.code == "REASON_REQUIRED"
    risk.hold(order.pk, seller.pk, staff, reason="家人说法不实")
    review = review_of(order)
    assert (review.status, review.signal_values, review.note) == (
        RiskReviewStatus.OPEN,
        ["same_phone", "manual"],
        "",
    )
    assert len(review.evidence) == 2 and held(order) == {seller.pk}
    risk.void(review, staff, note="刷单")
    assert commission(order, 1).status == CommissionStatus.CANCELLED
    with pytest.raises(DomainError) as nothing:
        risk.hold(order.pk, seller.pk, staff, reason="再查")
    assert nothing.value.code == "HOLD_NOTHING"


def test_settings_refuse_a_refund_rate_above_100_percent():
    with pytest.raises(DomainError):
        configure(risk_refund_rate_bp=10001)


def test_the_staff_api_lists_and_decides(lamp):
    seller = make_distributor()
    orders = []
    for _ in range(2):
        buyer = bound_buyer(seller)
        make_address(buyer, phone=seller.user.phone)
        orders.append(buy(buyer, (sku(lamp), 1)))
    finance = make_staff("finance")
    finance.user_permissions.set(role_permissions(FINANCE))
    client = api_for(finance)

    listing = client.get("/staff/distribution/risk-reviews", status="open").json()
    assert listing["count"] == 2
    first = listing["items"][-1]
    assert first["order_number"] == orders[0].number and first["signals"] == ["same_phone"]
    assert first["held_amount"] == 1000 and first["status"] == "open"

    cleared = client.post(f"/staff/distribution/risk-reviews/{first['id']}/clear", {"reason": "核实无误"})
    assert cleared.status_code == 200 and cleared.json()["status"] == "cleared"
    again = client.post(f"/staff/distribution/risk-reviews/{first['id']}/void", {"reason": "刷单"})
    assert again.status_code == 400 and again.json()["code"] == "RISK_REVIEW_DECIDED"
    second = listing["items"][0]["id"]
    no_reason = client.post(f"/staff/distribution/risk-reviews/{second}/void", {"reason": ""})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "REASON_REQUIRED"
    voided = client.post(f"/staff/distribution/risk-reviews/{second}/void", {"reason": "刷单"})
    assert voided.json()["status"] == "voided"
    assert commission(orders[1], 1).status == CommissionStatus.CANCELLED

    assert client.post("/staff/distribution/risk-reviews/99999/clear", {}).status_code == 404
    assert client.post(f"/staff/distribution/risk-reviews/{2**64}/clear", {}).status_code == 422
    assert client.get("/staff/distribution/risk-reviews", status="bogus").status_code == 422
    nobody = api_for(make_staff("nobody"))
    assert nobody.get("/staff/distribution/risk-reviews").status_code == 403
    assert nobody.post(f"/staff/distribution/risk-reviews/{second}/clear", {}).status_code == 403


def test_the_daily_reconciliation_finds_a_hold_that_did_not_hold(lamp):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone)
    order = receive(buy(buyer, (sku(lamp), 1)))
    clean = receive(buy(bound_buyer(seller), (sku(lamp), 1)))
    assert reconciliation.run().ok
    # Tampered: the held commission marked settled behind the review's back, and a clean
    # one marked held with no review anyone could decide.
    Commission.objects.filter(order=order).update(status=CommissionStatus.SETTLED)
    Commission.objects.filter(order=clean).update(under_review=True)
    orders = next(c for c in reconciliation.run().checks if c["key"] == "orders")
    texts = {p["pk"]: p["text"] for p in orders["problems"]}
    assert "风控审核未放行，佣金却已结算" in texts[commission(order, 1).pk]
    assert "没有待审核的风控记录" in texts[commission(clean, 1).pk]
