"""What the system writes into distribution rows in Chinese — 归属依据, a risk case's 依据,
ledger memos, a payout's failure, a claim's 处理说明, a distributor's 状态说明 — reads in
English on the English backend, the distributor's H5 pages and the API, values kept; the
rows keep their Chinese sentence, and what a person typed reads as typed."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from fenxiao.distribution.models import (
    CommissionAdjustment,
    DistributorStatus,
    EnableMode,
    LedgerEntry,
    OrderAttribution,
    RiskReview,
    Withdrawal,
)
from fenxiao.distribution.services import bans, claims, config, distributors, risk, withdrawals
from fenxiao.testing import api_for, in_english, login, make_address, make_buyer, make_staff

from .helpers import bound_buyer, buy, earn, make_distributor, receive, sku, superuser

pytestmark = pytest.mark.django_db

FAILING_ALIPAY = {"name": "王五", "account": "fail-x@example.cn"}
BANK = {"name": "王五", "bank": "招商银行杭州分行", "account": "6225880000000000"}


def english_api(user):
    api = api_for(user)
    api.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api


def h5(user, path: str, english: bool = True) -> str:
    client = Client()
    client.force_login(user)
    page = (in_english(client) if english else client).get(path)
    assert page.status_code == 200, path
    return page.content.decode()


def claim_on(claimant, order):
    return claims.file(
        claimant, order_number=order.number, phone_tail=order.buyer.phone[-4:], reason="客户扫了我的海报下单"
    )


def test_the_attribution_reason_and_the_claims_decision_read_in_english(lamp):
    seller, claimant, rival = make_distributor(), make_distributor(), make_distributor()
    order = buy(bound_buyer(seller), (sku(lamp), 1))
    filed, other = claim_on(claimant, order), claim_on(rival, order)
    boss = in_english(login(make_staff("boss", superuser=True)))

    page = boss.get(reverse("admin:distribution_orderclaim_change", args=[filed.pk])).content.decode()
    assert "Customer binding" in page and "客户绑定关系" not in page
    page = boss.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Customer binding" in page and "客户绑定关系" not in page  # the order's 分销归属

    claims.approve(filed, superuser(), rebind=True)
    attribution = OrderAttribution.objects.get(order=order)
    touch = order.buyer.touches.get(distributor=claimant, staff__isnull=False)
    assert touch.reason == f"掉单申诉 #{filed.pk} 改判后改绑"
    with translation.override("en"):
        assert touch.reason_text == f"Rebound after missing-order claim #{filed.pk} was upheld"
    assert attribution.reason == f"掉单申诉改判（申诉 #{filed.pk}；原归属：客户绑定关系）"
    page = boss.get(reverse("admin:distribution_orderclaim_change", args=[filed.pk])).content.decode()
    assert f"Reassigned on a missing-order claim (claim #{filed.pk}; previously: Customer binding)" in page
    assert "Reassigned" in page and "已改判" not in page

    # The old chain's cancelled commission says where the order went.
    old = order.commissions.get(distributor=seller)
    page = boss.get(reverse("admin:distribution_commission_change", args=[old.pk])).content.decode()
    assert f"Reassigned to distributor {claimant.referral_code} on a missing-order claim" in page
    assert CommissionAdjustment.objects.filter(note__startswith="掉单申诉改判给分销商").exists()

    # The distributor reads the decision in English; a note staff typed reads as typed.
    assert "Reassigned" in h5(claimant.user, "/d/claims/")
    assert english_api(claimant.user).get("/distribution/claims").json()["items"][0]["note"] == "Reassigned"
    # A rival's open claim is answered by the system, in the rival's language.
    other.refresh_from_db()
    assert other.note == "该订单已根据其他分销商的申诉改判"
    claims_page = h5(rival.user, "/d/claims/")
    assert "The order was reassigned on another distributor&#x27;s claim" in claims_page
    assert other.note not in claims_page


def test_a_typed_claim_note_reads_as_typed(lamp):
    seller, claimant = make_distributor(), make_distributor()
    filed = claim_on(claimant, buy(bound_buyer(seller), (sku(lamp), 1)))
    claims.reject(filed, superuser(), note="该订单客户从未访问过你的链接")
    assert "该订单客户从未访问过你的链接" in h5(claimant.user, "/d/claims/")
    note = english_api(claimant.user).get("/distribution/claims").json()["items"][0]["note"]
    assert note == "该订单客户从未访问过你的链接"


def test_a_risk_case_s_evidence_reads_in_english_and_a_staff_hold_keeps_what_was_typed(lamp):
    seller = make_distributor()
    buyer = bound_buyer(seller)
    make_address(buyer, phone=seller.user.phone, detail="文二路 8 号")
    order = receive(buy(buyer, (sku(lamp), 1)))
    review = RiskReview.objects.get(order=order)
    masked = f"{seller.user.phone[:3]}****{seller.user.phone[-4:]}"
    assert review.evidence == [f"一级分销商：收货手机号 {masked} 是其注册手机号"]
    english = f"Level 1 distributor: the recipient phone {masked} is their registered phone"

    boss = in_english(login(make_staff("boss", superuser=True)))
    page = boss.get(reverse("admin:distribution_riskreview_change", args=[review.pk])).content.decode()
    assert english in page and "注册手机号" not in page
    clear_form = boss.get(reverse("admin:distribution_riskreview_clear", args=[review.pk])).content.decode()
    assert english in clear_form

    staff = make_staff("risk", superuser=True)
    reply = english_api(staff).get("/staff/distribution/risk-reviews")
    assert reply.json()["items"][0]["evidence"] == [english]
    assert (
        api_for(staff).get("/staff/distribution/risk-reviews").json()["items"][0]["evidence"]
        == review.evidence
    )

    # Voided with a reason typed by staff: the commission's history shows it inside English.
    risk.void(review, staff, note="确认是本人小号")
    adjustment = CommissionAdjustment.objects.get(kind=CommissionAdjustment.Kind.RISK_VOIDED)
    page = boss.get(reverse("admin:distribution_commission_change", args=[adjustment.commission_id]))
    assert "Voided by risk review: 确认是本人小号" in page.content.decode()

    other = buy(bound_buyer(seller), (sku(lamp), 1))
    held = risk.hold(other.pk, seller.pk, staff, reason="客户投诉刷单")
    assert held.evidence == [f"{staff.username} 人工暂扣：客户投诉刷单"]
    page = boss.get(reverse("admin:distribution_riskreview_change", args=[held.pk])).content.decode()
    assert f"held by {staff.username}: 客户投诉刷单" in page


def test_a_failed_payout_reads_in_english_on_the_withdraw_page_the_api_and_the_backend():
    distributor = make_distributor()
    earn(distributor, 100000)
    withdrawal = withdrawals.request(distributor, amount=2500, method="alipay", account=FAILING_ALIPAY)
    withdrawals.approve(withdrawal, make_staff("finance", superuser=True))
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.failure_reason) == ("failed", "收款账户不存在或未实名认证")
    refusal = "The payee account does not exist or is not real-name verified"

    page = h5(distributor.user, "/d/withdraw/")
    assert refusal in page and "未实名认证" not in page
    assert "未实名认证" in h5(distributor.user, "/d/withdraw/", english=False)

    api = english_api(distributor.user)
    assert api.get("/distribution/withdrawals").json()["items"][0]["failure_reason"] == refusal
    notes = [entry["note"] for entry in api.get("/distribution/ledger").json()["items"]]
    assert notes[:2] == [
        f"Payout failed, amount returned: {refusal}",
        f"Withdrawal request {withdrawal.number}",
    ]
    assert LedgerEntry.objects.filter(note=f"打款失败，金额退回：{withdrawal.failure_reason}").exists()

    boss = in_english(login(make_staff("boss", superuser=True)))
    page = boss.get(reverse("admin:distribution_withdrawal_change", args=[withdrawal.pk])).content.decode()
    assert refusal in page and f"Payout failed, amount returned: {refusal}" in page


def test_a_failure_reason_staff_typed_reads_as_typed():
    distributor = make_distributor()
    earn(distributor, 100000)
    withdrawal = withdrawals.request(distributor, amount=2500, method="bank", account=BANK)
    finance = make_staff("finance", superuser=True)
    withdrawals.approve(withdrawal, finance)
    withdrawals.mark_failed(Withdrawal.objects.get(pk=withdrawal.pk), finance, reason="账户已销户")
    assert "账户已销户" in h5(distributor.user, "/d/withdraw/")
    api = english_api(distributor.user)
    assert api.get("/distribution/withdrawals").json()["items"][0]["failure_reason"] == "账户已销户"
    assert (
        api.get("/distribution/ledger").json()["items"][0]["note"]
        == "Payout failed, amount returned: 账户已销户"
    )


def test_the_ledger_and_withdrawals_api_cost_the_same_queries_for_more_rows():
    distributor = make_distributor()
    earn(distributor, 100000)
    api = english_api(distributor.user)

    def cost(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200
        return len(queries)

    finance = make_staff("finance", superuser=True)

    def failed_withdrawal():
        withdrawals.approve(
            withdrawals.request(distributor, amount=1000, method="alipay", account=FAILING_ALIPAY), finance
        )

    failed_withdrawal()
    cost("/distribution/ledger")  # the session's first request reads what later ones reuse
    few = cost("/distribution/ledger"), cost("/distribution/withdrawals")
    for _ in range(6):
        failed_withdrawal()
    assert Withdrawal.objects.filter(status="failed").count() == 7
    assert (cost("/distribution/ledger"), cost("/distribution/withdrawals")) == few


def test_a_ban_s_memo_reads_in_english_with_the_reason_as_typed(lamp):
    seller = make_distributor()
    order = buy(bound_buyer(seller), (sku(lamp), 1))
    bans.ban(seller, superuser(), decision="void", reason="刷单")
    entry = LedgerEntry.objects.get(distributor=seller, kind="ban")
    assert entry.note.startswith("封禁：待结算佣金 1 笔")
    boss = in_english(login(make_staff("boss", superuser=True)))
    ledger = boss.get(reverse("admin:distribution_distributor_ledger", args=[seller.pk])).content.decode()
    assert "Banned: 1 held commission(s)" in ledger and "Voided (reason: 刷单)" in ledger
    commission = order.commissions.get(distributor=seller)
    page = boss.get(reverse("admin:distribution_commission_change", args=[commission.pk])).content.decode()
    assert "Voided on ban: 刷单" in page


def test_the_everyone_mode_status_note_reads_in_english_and_a_suspension_reason_as_typed():
    applicant = distributors.apply(make_buyer(), real_name="张三", note="想分享")
    config.update_settings(superuser(), enable_mode=EnableMode.EVERYONE)  # lets the applicant in
    member = distributors.ensure_for_everyone_mode(applicant.user)
    assert (
        member.status == DistributorStatus.ACTIVE and member.status_reason == "人人分销：注册买家均为分销商"
    )
    boss = in_english(login(make_staff("boss", superuser=True)))
    page = boss.get(reverse("admin:distribution_distributor_change", args=[member.pk])).content.decode()
    assert "Everyone distributes: every registered buyer is a distributor" in page
    assert "人人分销：" not in page

    distributors.set_status(member, superuser(), DistributorStatus.SUSPENDED, reason="违规发布广告")
    assert "违规发布广告" in h5(member.user, "/d/")
