"""门店收银计佣: a member's till sale, pushed by the store's POS, earns their 导购 (and the
导购's upline) commission like a paid and completed online order, when the shop turned it
on. Amounts exact to the fen; the running totals always equal their recomputation."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fenxiao.distribution.models import (
    Commission,
    CommissionStatus,
    DistributorStatus,
    DistributorTotals,
    LedgerEntry,
    LedgerKind,
    RuleSource,
    SalesTier,
)
from fenxiao.distribution.services import config, distributors, settlement
from fenxiao.distribution.tests.helpers import after_freeze, assert_totals_match_history, make_distributor
from fenxiao.notices.models import Kind, Message
from fenxiao.stores.models import BindTarget, OfflineSale, PosIdempotency
from fenxiao.testing import api_for, make_buyer, make_product, make_staff

from .helpers import guide, make_store, scan, store_settings
from .pos_till import Till, sale

pytestmark = pytest.mark.django_db

LABEL = "门店收银 湖滨店 单号 S-1"


@pytest.fixture
def shop():
    """湖滨店 pays its 导购 15% at level 1; the 导购 sits under an upline (level 2 = 5%, the
    default); a member scanned the 导购's personal store QR, so is bound to them."""
    store = make_store("湖滨店", manager=make_buyer(), guide_level1_bp=1500)
    upline = make_distributor()
    staff = guide(store)
    distributors.set_parent(staff.user.distributor, upline)
    store_settings(bind_target=BindTarget.STAFF, pos_commission=True)
    member = make_buyer()
    scan(member, store, staff)
    cup = make_product("保温杯", price=5000)
    return {
        "store": store,
        "guide": staff.user.distributor,
        "upline": upline,
        "member": member,
        "code": cup.skus.get().code,
        "till": Till(store),
    }


def till_sale(shop, sale_id="S-1", phone=None, lines=None):
    lines = lines or [
        {"sku_code": shop["code"], "quantity": 2, "amount": 9999},
        {"sku_code": "TILL-ONLY-1", "quantity": 1, "amount": 3000},
    ]
    return sale(sale_id, phone or shop["member"].phone, sum(line["amount"] for line in lines), lines)


def test_a_members_till_sale_earns_their_guide_and_upline(shop):
    reply = shop["till"].call("POST", "/sales", till_sale(shop))

    assert reply.status_code == 200, reply.content
    # 9999 × 15% = 1499.85 → 1499 (store rate); 9999 × 5% = 499.95 → 499; the till-only line earns nothing
    assert reply.json()["commission"] == {"status": "created", "amount": 1499 + 499}
    found = {c.level: c for c in Commission.objects.all()}
    assert {level: (c.distributor_id, c.amount, c.base) for level, c in found.items()} == {
        1: (shop["guide"].pk, 1499, 9999),
        2: (shop["upline"].pk, 499, 9999),
    }
    assert (found[1].rule_source, found[1].rate_bp) == (RuleSource.STORE, 1500)
    assert (found[2].rule_source, found[2].rate_bp) == (RuleSource.DEFAULT, 500)
    for c in found.values():
        # The sale is paid and complete: held at once, settled after the normal hold.
        assert c.status == CommissionStatus.FROZEN and c.frozen_until > timezone.now()
        assert (c.order_id, c.order_line_id, c.offline_label) == (None, None, LABEL)
        assert c.item_name.startswith("保温杯")
    # Each earner is told, once, what the sale earns them.
    notices = Message.objects.filter(kind=Kind.COMMISSION_ARRIVED).values_list("user_id", "body")
    assert sorted(user for user, _ in notices) == sorted([shop["guide"].user_id, shop["upline"].user_id])
    assert all(f"您的客户在门店消费（{LABEL}），佣金" in body for _, body in notices)
    # The sale counts for the 导购's orders and sales, like a paid online order.
    row = DistributorTotals.objects.get(pk=shop["guide"].pk)
    assert (row.orders, row.sales, row.frozen, row.pending) == (1, 12999, 1499, 0)
    assert_totals_match_history()


def test_till_sales_count_for_the_monthly_tier_bonus(shop):
    config.save_tier(SalesTier(threshold=20000, bonus_bp=100))
    shop["till"].call("POST", "/sales", till_sale(shop, "S-1"))  # ¥129.99 this month: no bonus
    shop["till"].call("POST", "/sales", till_sale(shop, "S-2"))  # ¥259.98: +1%

    first, second = Commission.objects.filter(level=1).order_by("pk")
    assert (first.bonus_bp, first.amount) == (0, 1499)
    assert (second.bonus_bp, second.amount) == (100, 1599)  # 9999 × 16% = 1599.84 → 1599
    assert_totals_match_history()


def test_nothing_is_earned_when_the_setting_is_off(shop):
    store_settings(pos_commission=False)
    reply = shop["till"].call("POST", "/sales", till_sale(shop))
    assert reply.json()["commission"] == {"status": "disabled", "amount": 0}
    assert not Commission.objects.exists()
    assert DistributorTotals.objects.filter(orders__gt=0).count() == 0


def test_the_same_key_twice_records_one_sale_and_one_set_of_commission(shop):
    body = till_sale(shop)
    first = shop["till"].call("POST", "/sales", body)
    again = shop["till"].call("POST", "/sales", body)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert OfflineSale.objects.count() == 1
    assert Commission.objects.count() == 2
    assert DistributorTotals.objects.get(pk=shop["guide"].pk).orders == 1
    assert_totals_match_history()


def test_unknown_skus_and_unmatched_phones_earn_nothing(shop):
    only_till = [{"sku_code": "TILL-ONLY-2", "quantity": 1, "amount": 8800}]
    reply = shop["till"].call("POST", "/sales", till_sale(shop, "S-2", lines=only_till))
    assert reply.json()["commission"] == {"status": "none", "amount": 0}

    stranger = shop["till"].call("POST", "/sales", till_sale(shop, "S-3", phone="13900000000"))
    assert stranger.json()["member_matched"] is False
    assert stranger.json()["commission"] == {"status": "none", "amount": 0}
    assert not Commission.objects.exists()
    # The member's sale still counted for the 导购's orders (as an order of excluded goods would).
    assert DistributorTotals.objects.get(pk=shop["guide"].pk).orders == 1
    assert_totals_match_history()


def test_a_till_commission_settles_after_the_hold_with_one_ledger_entry(shop):
    shop["till"].call("POST", "/sales", till_sale(shop))
    settlement.settle_due(timezone.now())  # still held
    assert not LedgerEntry.objects.filter(kind=LedgerKind.COMMISSION).exists()

    settlement.settle_due(after_freeze())
    settlement.settle_due(after_freeze())  # a second run finds nothing more

    assert set(Commission.objects.values_list("status", flat=True)) == {CommissionStatus.SETTLED}
    entries = LedgerEntry.objects.filter(kind=LedgerKind.COMMISSION).order_by("distributor_id")
    assert sorted((e.distributor_id, e.amount) for e in entries) == sorted(
        [(shop["guide"].pk, 1499), (shop["upline"].pk, 499)]
    )
    assert {e.note for e in entries} == {"门店收银 1级佣金结算", "门店收银 2级佣金结算"}
    assert DistributorTotals.objects.get(pk=shop["guide"].pk).balance == 1499
    assert_totals_match_history()


def test_pages_lists_exports_and_the_api_show_a_till_commission(shop):
    shop["till"].call("POST", "/sales", till_sale(shop))
    commission = Commission.objects.get(level=1)
    guide_user = shop["guide"].user

    h5 = Client()
    h5.force_login(guide_user)
    listing = h5.get("/d/commissions/")
    assert listing.status_code == 200 and LABEL in listing.content.decode()
    assert "保温杯" in listing.content.decode()
    assert h5.get("/d/").status_code == 200

    api = api_for(guide_user).get("/distribution/commissions").json()["items"]
    assert [(c["order_number"], c["offline"], c["amount"]) for c in api] == [(LABEL, True, 1499)]
    assert api[0]["why"].startswith(f"{LABEL} 商品实付 ¥99.99")

    boss = Client()
    boss.force_login(make_staff("boss", superuser=True))
    changelist = boss.get(reverse("admin:distribution_commission_changelist"))
    assert changelist.status_code == 200 and LABEL in changelist.content.decode()
    change = boss.get(reverse("admin:distribution_commission_change", args=[commission.pk]))
    assert change.status_code == 200 and LABEL in change.content.decode()
    exported = boss.get(reverse("admin:distribution_commission_export", args=["csv"]))
    assert exported.status_code == 200
    body = b"".join(exported.streaming_content) if exported.streaming else exported.content
    assert LABEL in body.decode()
    ledger = boss.get(reverse("admin:distribution_distributor_ledger", args=[shop["guide"].pk]))
    assert ledger.status_code == 200 and LABEL in ledger.content.decode()


def test_an_answer_stored_before_till_commission_replays_in_the_new_shape(shop):
    body = till_sale(shop)
    shop["till"].call("POST", "/sales", body)
    stored = PosIdempotency.objects.get()
    PosIdempotency.objects.filter(pk=stored.pk).update(response=stored.response | {"commission": "disabled"})

    again = shop["till"].call("POST", "/sales", body)
    assert again.status_code == 200 and again.json()["commission"] == {"status": "disabled", "amount": 0}


def test_banning_the_guide_voids_their_held_till_commission(shop):
    shop["till"].call("POST", "/sales", till_sale(shop))
    distributors.set_status(shop["guide"], None, DistributorStatus.BANNED, reason="违规", decision="void")

    voided = Commission.objects.get(level=1)
    assert (voided.status, voided.net_amount) == (CommissionStatus.CANCELLED, 0)
    assert voided.adjustments.get().refunded_base == 0
    assert Commission.objects.get(level=2).status == CommissionStatus.FROZEN
    assert_totals_match_history()


def test_the_distribution_report_counts_till_sales_and_refunds_as_the_running_totals_do(shop):
    from fenxiao.analytics.services import aggregates, reports
    from fenxiao.analytics.services.periods import Period
    from fenxiao.distribution.tests.helpers import buy, sku, staff_refund

    lamp_order = buy(shop["member"], (sku(make_product("台灯", price=8000)), 1))  # online, through the 导购
    shop["till"].call("POST", "/sales", till_sale(shop))  # ¥129.99 at the till
    aggregates.refresh()
    today = timezone.localdate()

    def guide_row():
        built = {r.key: r for r in reports.build("distribution", Period(today, today), {})}
        rows = built["distributor-sales-ranking"].table.rows
        return next(r for r in rows if r["distributor_id"] == shop["guide"].pk)

    row = guide_row()
    totals = DistributorTotals.objects.get(pk=shop["guide"].pk)
    assert (row["orders"], row["sales"]) == (2, 8000 + 12999) == (totals.orders, totals.sales)
    # Its commission was already there: 8000 × 15% (store rate) + 1499 from the till.
    assert row["commission_accrued"] == 1200 + 1499
    # A rebuild of the day gives the same row (the till sale is added once, not twice).
    aggregates.rebuild(today, today)
    assert guide_row() == row

    # Money back online (¥30 of the lamp) and at the till (¥10 of the cup), and a return of
    # a till sale that earned nobody anything: the row's refunds are the first two, and
    # its net sales stay equal to the running total.
    staff_refund(lamp_order, {"line_id": lamp_order.lines.get().pk, "quantity": 0, "amount": 3000})
    shop["till"].call("POST", "/sales", sale("S-2", None, 4000))
    for sale_id, refund_id, lines in (
        ("S-1", "R-1", [{"sku_code": shop["code"], "quantity": 0, "amount": 1000}]),
        ("S-2", "R-2", [{"sku_code": "TILL-ONLY-1", "quantity": 1, "amount": 2000}]),
    ):
        body = {
            "refund_id": refund_id,
            "lines": lines,
            "total": lines[0]["amount"],
            "refunded_at": timezone.now().isoformat(),
        }
        reply = shop["till"].call("POST", f"/sales/{sale_id}/refunds", body, idempotency=refund_id)
        assert reply.status_code == 200, reply.content
    aggregates.refresh()
    row = guide_row()
    totals.refresh_from_db()
    assert (row["sales"], row["refunds"]) == (8000 + 12999, 3000 + 1000)
    assert row["net_sales"] == 8000 + 12999 - 4000 == totals.sales
    aggregates.rebuild(today, today)
    assert guide_row() == row
