"""掉单申诉: a distributor claims an order that went to someone else (or nobody); staff
改判 moves the order and its unsettled commission to the claimant's chain, to the fen, with
the running totals and the daily reconciliation still agreeing; or 驳回 it."""

from datetime import timedelta

import pytest
from django.urls import reverse

from fenxiao.core.errors import DomainError
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, role_permissions
from fenxiao.distribution.models import (
    ClaimStatus,
    CommissionAdjustment,
    CommissionStatus,
    OrderAttribution,
    OrderClaim,
    RiskReview,
    RiskReviewStatus,
)
from fenxiao.distribution.services import binding, claims, reconciliation, risk, totals
from fenxiao.notices.models import Message
from fenxiao.testing import api_for, login, make_address, make_product, make_staff

from .helpers import (
    bound_buyer,
    buy,
    commission,
    current_distributor,
    ledger_sum,
    make_distributor,
    place,
    receive,
    settle_now,
    sku,
    staff_refund,
    superuser,
    travel,
)

pytestmark = pytest.mark.django_db


def claim(distributor, order, tail=None, reason="客户扫了我的海报下单"):
    return claims.file(
        distributor, order_number=order.number, phone_tail=tail or order.buyer.phone[-4:], reason=reason
    )


def refused(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def test_approving_moves_the_order_and_its_commission_to_the_claimant(lamp):
    seller = make_distributor()
    parent = make_distributor()
    claimant = make_distributor(parent=parent)
    buyer = bound_buyer(seller)
    order = buy(buyer, (sku(lamp), 1))
    assert commission(order, 1).distributor == seller

    assert refused(lambda: claim(claimant, order, tail="0000")) == "CLAIM_ORDER_NOT_FOUND"
    filed = claim(claimant, order)
    assert (filed.status, filed.previous_level1) == (ClaimStatus.OPEN, seller)
    assert refused(lambda: claim(claimant, order)) == "CLAIM_DUPLICATE"
    rival = make_distributor()
    rival_claim = claim(rival, order)

    claims.approve(filed, superuser(), note="核实海报扫码记录", rebind=True)
    filed.refresh_from_db()
    assert filed.status == ClaimStatus.APPROVED and filed.decided_at
    rival_claim.refresh_from_db()
    assert rival_claim.status == ClaimStatus.REJECTED and "其他分销商" in rival_claim.note

    old = order.commissions.get(distributor=seller)
    assert (old.status, old.net_amount) == (CommissionStatus.CANCELLED, 0)
    assert old.adjustments.get().kind == CommissionAdjustment.Kind.REATTRIBUTED
    new = {c.level: c for c in order.commissions.exclude(status=CommissionStatus.CANCELLED)}
    assert (new[1].distributor, new[1].amount, new[1].status) == (claimant, 1000, CommissionStatus.PENDING)
    assert (new[2].distributor, new[2].amount) == (parent, 500)
    attribution = OrderAttribution.objects.get(order=order)
    assert (attribution.level1, attribution.level2) == (claimant, parent)
    assert "掉单申诉改判" in attribution.reason and "客户绑定关系" in attribution.reason
    assert current_distributor(buyer) == claimant  # rebound for the next order
    assert not totals.mismatches([seller.pk, claimant.pk, parent.pk])
    stored = totals.stored([seller.pk, claimant.pk])
    assert (stored[seller.pk]["orders"], stored[claimant.pk]["orders"]) == (0, 1)
    assert (stored[seller.pk]["sales"], stored[claimant.pk]["sales"]) == (0, order.paid_amount)
    assert reconciliation.run().ok
    message = Message.objects.get(user=claimant.user, kind="claim_decided")
    assert message.link == "/d/claims/" and order.number in message.body
    why = api_for(seller.user).get("/distribution/commissions").json()["items"][0]["why"]
    assert "掉单申诉改判" in why
    assert refused(lambda: claims.approve(filed, superuser())) == "CLAIM_DECIDED"


def test_a_completed_partly_refunded_order_moves_frozen_and_at_its_share(lamp):
    seller = make_distributor()
    claimant = make_distributor()
    mug = make_product("杯子", price=5000)
    order = receive(buy(bound_buyer(seller), (sku(lamp), 1), (sku(mug), 1)))
    frozen_until = commission(order, 1, line=order.lines.get(sku__product=lamp)).frozen_until
    staff_refund(order, {"line_id": order.lines.get(sku__product=mug).pk})  # the mug comes back
    filed = claim(claimant, order)
    claims.approve(filed, superuser())

    mine = {c.order_line.sku.product_id: c for c in order.commissions.filter(distributor=claimant)}
    assert (mine[lamp.pk].status, mine[lamp.pk].net_amount) == (CommissionStatus.FROZEN, 1000)
    assert mine[lamp.pk].frozen_until == frozen_until  # the hold the order already had
    assert (mine[mug.pk].status, mine[mug.pk].net_amount) == (CommissionStatus.CANCELLED, 0)  # refunded
    settle_now()
    assert (ledger_sum(claimant), ledger_sum(seller)) == (1000, 0)
    assert not totals.mismatches([seller.pk, claimant.pk])
    assert reconciliation.run().ok


def test_what_cannot_be_claimed_or_decided(lamp):
    seller = make_distributor()
    claimant = make_distributor()
    buyer = bound_buyer(seller)
    unpaid = place(buyer, (sku(lamp), 1))
    assert refused(lambda: claim(claimant, unpaid)) == "CLAIM_ORDER_UNPAID"
    own = buy(claimant.user, (sku(lamp), 1))
    assert refused(lambda: claim(claimant, own)) == "CLAIM_OWN_ORDER"
    assert refused(lambda: claim(seller, buy(buyer, (sku(lamp), 1)))) == "CLAIM_ALREADY_YOURS"
    assert refused(lambda: claim(claimant, buy(buyer, (sku(lamp), 1)), reason=" ")) == "REASON_REQUIRED"
    old = buy(buyer, (sku(lamp), 1))
    with travel(timedelta(days=claims.CLAIM_DAYS + 1)):
        assert refused(lambda: claim(claimant, old)) == "CLAIM_TOO_LATE"
    settled = receive(buy(buyer, (sku(lamp), 1)))
    open_claim = claim(claimant, settled)
    settle_now()
    assert refused(lambda: claim(make_distributor(), settled)) == "CLAIM_SETTLED"
    assert refused(lambda: claims.approve(open_claim, superuser())) == "CLAIM_SETTLED"
    assert refused(lambda: claims.reject(open_claim, superuser(), note="")) == "REASON_REQUIRED"
    claims.reject(open_claim, superuser(), note="客户表示是自己搜索下单")
    message = Message.objects.get(user=claimant.user, kind="claim_decided")
    assert "客户表示是自己搜索下单" in message.body
    assert OrderClaim.objects.get(pk=open_claim.pk).status == ClaimStatus.REJECTED


def test_the_distributor_and_staff_apis(lamp):
    seller = make_distributor()
    claimant = make_distributor()
    order = buy(bound_buyer(seller), (sku(lamp), 1))
    app = api_for(claimant.user)
    body = {"order_number": order.number, "phone_tail": "12345", "reason": "海报"}
    assert app.post("/distribution/claims", body).status_code == 422
    wrong = app.post("/distribution/claims", {**body, "phone_tail": "0000"})
    assert wrong.status_code == 404 and wrong.json()["message"] == claims.NOT_FOUND
    filed = app.post("/distribution/claims", {**body, "phone_tail": order.buyer.phone[-4:]})
    assert filed.status_code == 201 and filed.json()["status_display"] == "待处理"
    assert app.get("/distribution/claims").json()["items"][0]["order_number"] == order.number

    finance = make_staff("finance")
    finance.user_permissions.set(role_permissions(FINANCE))
    claim_id = filed.json()["id"]
    assert api_for(finance).get("/staff/distribution/claims?status=open").json()["count"] == 1
    assert api_for(finance).post(f"/staff/distribution/claims/{claim_id}/approve", {}).status_code == 403
    operations = make_staff("ops")
    operations.user_permissions.set(role_permissions(OPERATIONS))
    staff = api_for(operations)
    assert staff.post(f"/staff/distribution/claims/{claim_id}/reject", {"reason": ""}).status_code == 400
    done = staff.post(f"/staff/distribution/claims/{claim_id}/approve", {"reason": "核实无误"})
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert staff.post("/staff/distribution/claims/999999/approve", {}).status_code == 404


def test_the_backend_shows_the_evidence_and_decides(lamp):
    seller = make_distributor()
    claimant = make_distributor()
    buyer = bound_buyer(seller)
    binding.record_touch(buyer, claimant, "poster")  # kept: the seller's binding is protected
    order = buy(buyer, (sku(lamp), 1))
    filed = claim(claimant, order)
    operations = make_staff("ops")
    operations.user_permissions.set(role_permissions(OPERATIONS))
    client = login(operations)
    listing = client.get(reverse("admin:distribution_orderclaim_changelist"))
    assert listing.status_code == 200 and order.number in listing.content.decode()
    page = client.get(reverse("admin:distribution_orderclaim_change", args=[filed.pk])).content.decode()
    assert "客户绑定关系" in page and "改判给申诉人" in page
    assert "（申诉人） · 海报" in page and "推广链接 · 已绑定" in page
    url = reverse("admin:distribution_orderclaim_approve", args=[filed.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "海报扫码在先"}).status_code == 302
    assert OrderAttribution.objects.get(order=order).level1 == claimant


def test_wrong_guesses_are_limited_and_a_filed_claim_gives_its_try_back(lamp):
    seller = make_distributor()
    claimant = make_distributor()
    buyer = bound_buyer(seller)
    first, second = buy(buyer, (sku(lamp), 1)), buy(buyer, (sku(lamp), 1))
    claim(claimant, first)  # counted, then given back
    wrong = "0000" if not buyer.phone.endswith("0000") else "1111"
    for _ in range(claims.FAILED_TRIES - 1):
        assert refused(lambda: claim(claimant, second, tail=wrong)) == "CLAIM_ORDER_NOT_FOUND"
    claim(claimant, second)  # the tenth try, right
    third = buy(buyer, (sku(lamp), 1))
    assert refused(lambda: claim(claimant, third, tail=wrong)) == "CLAIM_ORDER_NOT_FOUND"
    assert refused(lambda: claim(claimant, third)) == "CLAIM_TOO_MANY_TRIES"  # right, but too late
    assert claim(make_distributor(), third).status == ClaimStatus.OPEN  # counted per distributor


def test_a_shared_upline_is_paid_afresh_and_its_open_case_follows(lamp):
    parent = make_distributor()
    seller, claimant = make_distributor(parent=parent), make_distributor(parent=parent)
    buyer = bound_buyer(seller)
    make_address(buyer, phone=parent.user.phone)  # ships to the upline's phone: its level is held
    order = buy(buyer, (sku(lamp), 1))
    assert RiskReview.objects.get(order=order, distributor=parent).held_amount == 500

    claims.approve(claim(claimant, order), superuser())
    live = {c.distributor_id: c for c in order.commissions.exclude(status=CommissionStatus.CANCELLED)}
    assert {pk: c.amount for pk, c in live.items()} == {claimant.pk: 1000, parent.pk: 500}
    assert live[parent.pk].under_review  # screened again, in the same case
    case = RiskReview.objects.get(order=order, distributor=parent)
    assert case.status == RiskReviewStatus.OPEN and case.held_amount == 500
    assert not totals.mismatches([seller.pk, claimant.pk, parent.pk])
    assert reconciliation.run().ok
    receive(order)
    risk.clear(case, superuser(), note="核实无误")
    settle_now()
    assert (ledger_sum(claimant), ledger_sum(parent), ledger_sum(seller)) == (1000, 500, 0)
    assert reconciliation.run().ok


def test_the_window_counts_to_the_filing_and_an_upline_buyer_is_refused(lamp):
    seller = make_distributor()
    claimant = make_distributor()
    order = buy(bound_buyer(seller), (sku(lamp), 1))
    with travel(timedelta(days=claims.CLAIM_DAYS - 1)):
        filed = claim(claimant, order)
    with travel(timedelta(days=claims.CLAIM_DAYS + 2)):
        claims.approve(filed, superuser())
    assert OrderAttribution.objects.get(order=order).level1 == claimant

    top = make_distributor()
    child = make_distributor(parent=top)
    own_order = buy(top.user, (sku(lamp), 1))  # the top distributor's own purchase
    assert refused(lambda: claims.approve(claim(child, own_order), superuser())) == "CLAIM_BUYER_UPLINE"
    assert OrderClaim.objects.get(distributor=child).status == ClaimStatus.OPEN  # nothing written


def test_rebinding_with_a_claim_needs_the_rebind_permission(lamp):
    seller = make_distributor()
    claimant = make_distributor()
    filed = claim(claimant, buy(bound_buyer(seller), (sku(lamp), 1)))
    decider = make_staff("decider", perms=["distribution.view_orderclaim", "distribution.change_orderclaim"])
    app = api_for(decider)
    assert app.post(f"/staff/distribution/claims/{filed.pk}/approve", {"rebind": True}).status_code == 403
    assert app.post(f"/staff/distribution/claims/{filed.pk}/approve", {}).status_code == 200


def test_an_incomplete_form_names_its_first_empty_field_and_costs_no_try(lamp):
    claimant = make_distributor()
    order = buy(bound_buyer(make_distributor()), (sku(lamp), 1))

    def file(number, tail, reason):
        return refused(lambda: claims.file(claimant, order_number=number, phone_tail=tail, reason=reason))

    assert file("", "", "") == "ORDER_NUMBER_REQUIRED"
    assert file(order.number, "", "") == "PHONE_TAIL_INVALID"
    assert file(order.number, "12a4", "") == "PHONE_TAIL_INVALID"
    assert file(order.number, "١٢٣٤", "x") == "PHONE_TAIL_INVALID"  # Arabic-Indic digits
    assert file(order.number, order.buyer.phone[-4:], " ") == "REASON_REQUIRED"
    for _ in range(claims.FAILED_TRIES + 2):
        file(order.number, "", "")
    assert claim(claimant, order).status == ClaimStatus.OPEN  # none of those was a guess
