"""门店退货: a return at the till, pushed by the store's POS against a sale it reported, takes
back the sale's commission exactly as an online refund does (reduced or cancelled while held,
clawed back through the ledger once settled) and the member's figures; refused whole, and
written once, otherwise."""

import itertools
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fenxiao.customers.models import CustomerFigures, CustomerTag, Tag, TagRule
from fenxiao.customers.services import figures, tags
from fenxiao.distribution.models import (
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    DistributorTotals,
    LedgerEntry,
    LedgerKind,
    OfflineAttribution,
)
from fenxiao.distribution.services import distributors, ledger, settlement
from fenxiao.distribution.tests.helpers import after_freeze, assert_totals_match_history, make_distributor
from fenxiao.stores.models import BindTarget, OfflineRefund, OfflineSale, OfflineSaleLine, PosIdempotency
from fenxiao.testing import api_for, make_buyer, make_product, make_staff

from .helpers import guide, make_store, scan, store_settings
from .pos_till import Till, sale

pytestmark = pytest.mark.django_db

# The sale: 2 cups for ¥99.99 (earns 15% at level 1, 5% at level 2) and a till-only item.
CUP_PAID, L1, L2 = 9999, 1499, 499


@pytest.fixture
def shop():
    return open_shop()


def open_shop():
    """湖滨店 pays its 导购 15% at level 1, the upline 5%; its member, bound to the 导购, bought
    at the till (sale S-1)."""
    store = make_store("湖滨店", manager=make_buyer(), guide_level1_bp=1500)
    upline = make_distributor()
    staff = guide(store)
    distributors.set_parent(staff.user.distributor, upline)
    store_settings(bind_target=BindTarget.STAFF, pos_commission=True)
    member = make_buyer()
    scan(member, store, staff)
    code = make_product("保温杯", price=5000).skus.get().code
    till = Till(store)
    lines = [
        {"sku_code": code, "quantity": 2, "amount": CUP_PAID},
        {"sku_code": "TILL-ONLY-1", "quantity": 1, "amount": 3000},
    ]
    reply = till.call("POST", "/sales", sale("S-1", member.phone, CUP_PAID + 3000, lines))
    assert reply.json()["commission"] == {"status": "created", "amount": L1 + L2}, reply.content
    return {
        "guide": staff.user.distributor,
        "upline": upline,
        "member": member,
        "code": code,
        "till": till,
        "returned_at": timezone.now(),  # one moment, so a retried return is the same body
    }


def refund(shop, refund_id="R-1", lines=None, *, key=None, sale_id="S-1", total=None, refunded_at=None):
    lines = lines if lines is not None else [{"sku_code": shop["code"], "quantity": 1, "amount": 3333}]
    body = {
        "refund_id": refund_id,
        "lines": lines,
        "total": sum(line["amount"] for line in lines) if total is None else total,
        "refunded_at": (refunded_at or shop["returned_at"]).isoformat(),
    }
    return shop["till"].call(
        "POST", f"/sales/{sale_id}/refunds", body, idempotency=key or f"refund:{sale_id}:{refund_id}"
    )


def nets():
    return {c.level: (c.status, c.net_amount) for c in Commission.objects.all()}


def test_partial_returns_reduce_held_commission_to_its_exact_share_without_drift(shop):
    first = refund(shop, "R-1")
    assert first.status_code == 200, first.content
    assert first.json() == {
        "refund_id": "R-1",
        "sale_id": "S-1",
        "id": OfflineRefund.objects.get().pk,
        "total": 3333,
        "sale_refunded_total": 3333,
        # 1499 × 6666 // 9999 = 999; 499 × 6666 // 9999 = 332
        "commission": {"reduced": (L1 - 999) + (L2 - 332), "clawed_back": 0},
    }
    assert nets() == {1: (CommissionStatus.FROZEN, 999), 2: (CommissionStatus.FROZEN, 332)}
    assert_totals_match_history()

    refund(shop, "R-2")  # another third: the share is taken from the original amount again
    assert nets() == {1: (CommissionStatus.FROZEN, 1499 * 3333 // 9999), 2: (CommissionStatus.FROZEN, 166)}
    cup = OfflineSaleLine.objects.get(sku_code=shop["code"])
    assert (cup.refunded_quantity, cup.refunded_amount) == (2, 6666)

    last = refund(shop, "R-3", [{"sku_code": shop["code"], "quantity": 0, "amount": 3333}])
    assert last.json()["sale_refunded_total"] == CUP_PAID
    assert nets() == {1: (CommissionStatus.CANCELLED, 0), 2: (CommissionStatus.CANCELLED, 0)}
    guide_commission = Commission.objects.get(level=1)
    kinds = list(guide_commission.adjustments.order_by("pk").values_list("kind", "amount", "refunded_base"))
    assert kinds == [
        (CommissionAdjustment.Kind.REDUCED, 500, 3333),
        (CommissionAdjustment.Kind.REDUCED, 500, 6666),
        (CommissionAdjustment.Kind.CANCELLED, 499, 9999),
    ]
    assert "门店收银 湖滨店 单号 S-1 门店退货" in guide_commission.adjustments.first().note
    # The 导购's sales lose what went back (the till-only line is still sold), as online.
    row = DistributorTotals.objects.get(pk=shop["guide"].pk)
    assert (row.orders, row.sales, row.frozen) == (1, 3000, 0)
    assert OfflineAttribution.objects.get().refunded == CUP_PAID
    assert_totals_match_history()


_sale_nos = itertools.count(1)


@given(cuts=st.lists(st.integers(min_value=1, max_value=CUP_PAID), min_size=1, max_size=4))
@settings(
    max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_any_run_of_partial_returns_leaves_each_commission_at_its_exact_share(shop, cuts):
    sale_no = f"P-{next(_sale_nos)}"
    cups = [{"sku_code": shop["code"], "quantity": 2, "amount": CUP_PAID}]
    shop["till"].call("POST", "/sales", sale(sale_no, shop["member"].phone, CUP_PAID, cups))
    sold = OfflineSale.objects.get(sale_no=sale_no)
    earned = Commission.objects.filter(offline_ref__startswith=f"pos:{sold.pk}:")
    returned = 0
    for i, cut in enumerate(cuts):
        cut = min(cut, CUP_PAID - returned)
        if not cut:
            break
        money_back = [{"sku_code": shop["code"], "quantity": 0, "amount": cut}]
        reply = refund(shop, f"R-{i}", money_back, sale_id=sale_no, refunded_at=timezone.now())
        assert reply.status_code == 200, reply.content
        returned += cut
        remaining = CUP_PAID - returned
        assert {c.level: c.net_amount for c in earned.all()} == {
            1: L1 * remaining // CUP_PAID,
            2: L2 * remaining // CUP_PAID,
        }
    assert_totals_match_history()


def test_a_return_after_settlement_claws_back_through_the_ledger(shop):
    settlement.settle_due(after_freeze())
    reply = refund(shop, "R-1", [{"sku_code": shop["code"], "quantity": 2, "amount": CUP_PAID}])

    assert reply.json()["commission"] == {"reduced": 0, "clawed_back": L1 + L2}
    clawbacks = LedgerEntry.objects.filter(kind=LedgerKind.CLAWBACK)
    assert sorted((e.distributor_id, e.amount) for e in clawbacks) == sorted(
        [(shop["guide"].pk, -L1), (shop["upline"].pk, -L2)]
    )
    for entry in clawbacks:
        adjustment = CommissionAdjustment.objects.get(commission=entry.commission)
        assert adjustment.kind == CommissionAdjustment.Kind.CLAWBACK
        assert entry.source_key == f"clawback:{adjustment.pk}"
    for distributor in (shop["guide"], shop["upline"]):
        assert ledger.balance(distributor.pk) == 0
        assert DistributorTotals.objects.get(pk=distributor.pk).balance == 0
    # Settled stays settled, its net now nothing.
    assert nets() == {1: (CommissionStatus.SETTLED, 0), 2: (CommissionStatus.SETTLED, 0)}
    assert_totals_match_history()


def test_the_same_key_twice_records_one_return(shop):
    first = refund(shop, "R-1")
    again = refund(shop, "R-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert OfflineRefund.objects.count() == 1
    assert OfflineSaleLine.objects.get(sku_code=shop["code"]).refunded_amount == 3333
    assert CommissionAdjustment.objects.count() == 2
    assert_totals_match_history()


def written():
    """Everything a return writes, to compare before and after a refusal."""
    return (
        OfflineRefund.objects.count(),
        list(OfflineSaleLine.objects.order_by("pk").values_list("refunded_quantity", "refunded_amount")),
        list(OfflineSale.objects.values_list("refunded_amount", flat=True)),
        nets(),
        CommissionAdjustment.objects.count(),
        list(DistributorTotals.objects.order_by("pk").values_list("sales", "frozen")),
        list(CustomerFigures.objects.values_list("total_spend", "refunded")),
        PosIdempotency.objects.count(),
    )


def test_the_same_refund_no_under_another_key_is_refused_and_writes_nothing(shop):
    both_cups = [{"sku_code": shop["code"], "quantity": 2, "amount": CUP_PAID}]
    refund(shop, "R-1", both_cups)
    before = written()
    reply = refund(shop, "R-1", both_cups, key="another-key")
    assert reply.status_code == 409 and reply.json()["code"] == "POS_REFUND_DUPLICATE"
    assert written() == before


@pytest.mark.parametrize(
    "lines,total,status,code",
    [
        ([{"sku_code": "COUPON", "quantity": 2, "amount": 1}], None, 422, "POS_REFUND_LINE_UNKNOWN"),
        ([{"sku_code": "CUP", "quantity": 3, "amount": 100}], None, 409, "POS_REFUND_EXCEEDS_SALE"),
        ([{"sku_code": "CUP", "quantity": 1, "amount": CUP_PAID + 1}], None, 409, "POS_REFUND_EXCEEDS_SALE"),
        ([{"sku_code": "CUP", "quantity": 1, "amount": 100}], 99, 400, "POS_TOTAL_MISMATCH"),
        ([{"sku_code": "CUP", "quantity": 0, "amount": 0}], None, 400, "POS_REFUND_LINE_EMPTY"),
    ],
)
def test_a_return_asking_what_the_sale_does_not_have_is_refused_whole(shop, lines, total, status, code):
    code_of = {"CUP": shop["code"]}
    lines = [{**line, "sku_code": code_of.get(line["sku_code"], line["sku_code"])} for line in lines]
    # A valid first line goes with the bad one: a refusal writes nothing of either.
    lines = [{"sku_code": "TILL-ONLY-1", "quantity": 1, "amount": 3000}, *lines]
    before = written()
    reply = refund(shop, "R-9", lines, total=None if total is None else 3000 + total)
    assert reply.status_code == status, reply.content
    assert reply.json()["code"] == code
    assert written() == before


def test_a_return_after_part_was_returned_may_only_take_what_remains(shop):
    refund(shop, "R-1", [{"sku_code": shop["code"], "quantity": 2, "amount": 9000}])
    before = written()
    reply = refund(shop, "R-2", [{"sku_code": shop["code"], "quantity": 1, "amount": 1}])
    assert reply.status_code == 409
    left = {"sku_code": shop["code"], "quantity_left": 0, "amount_left": 999}
    assert reply.json()["details"]["lines"] == [left]
    assert written() == before
    assert refund(shop, "R-3", [{"sku_code": shop["code"], "quantity": 0, "amount": 999}]).status_code == 200


def test_unknown_sales_future_times_and_missing_keys_are_refused(shop):
    assert refund(shop, sale_id="S-404").json()["code"] == "POS_SALE_NOT_FOUND"
    assert refund(shop, sale_id="S-404").status_code == 404
    future = refund(shop, refunded_at=timezone.now() + timedelta(hours=1))
    assert (future.status_code, future.json()["code"]) == (400, "POS_REFUNDED_AT_INVALID")
    early = refund(shop, refunded_at=timezone.now() - timedelta(days=1))
    assert (early.status_code, early.json()["code"]) == (400, "POS_REFUNDED_AT_INVALID")
    body = {"refund_id": "R-1", "lines": [{"sku_code": shop["code"], "quantity": 1, "amount": 1}], "total": 1}
    body["refunded_at"] = timezone.now().isoformat()
    keyless = shop["till"].call("POST", "/sales/S-1/refunds", body)
    assert (keyless.status_code, keyless.json()["code"]) == (400, "IDEMPOTENCY_KEY_MISSING")
    # Another store's till does not see this store's sales.
    other = Till(make_store("别的店"))
    reply = other.call("POST", "/sales/S-1/refunds", body, idempotency="k-1")
    assert reply.status_code == 404
    assert not OfflineRefund.objects.exists()


def test_a_code_on_several_sale_lines_is_taken_from_them_in_line_order(shop):
    lines = [
        {"sku_code": shop["code"], "quantity": 1, "amount": 5000},
        {"sku_code": shop["code"], "quantity": 2, "amount": 8000},
    ]
    shop["till"].call("POST", "/sales", sale("S-2", shop["member"].phone, 13000, lines))
    cups = [{"sku_code": shop["code"], "quantity": 2, "amount": 9000}]
    reply = refund(shop, "R-1", cups, sale_id="S-2", refunded_at=timezone.now())
    assert reply.status_code == 200, reply.content
    first, second = OfflineSaleLine.objects.filter(sale__sale_no="S-2").order_by("pk")
    assert (first.refunded_quantity, first.refunded_amount) == (1, 5000)
    assert (second.refunded_quantity, second.refunded_amount) == (1, 4000)
    # The first line's commission is cancelled, the second's halved.
    by_line = {
        c.offline_ref: c.net_amount
        for c in Commission.objects.filter(level=1, offline_ref__startswith=f"pos:{first.sale_id}:")
    }
    ref = f"pos:{first.sale_id}:"
    assert by_line == {f"{ref}{first.pk}": 0, f"{ref}{second.pk}": 1200 * 4000 // 8000}
    assert_totals_match_history()


def test_a_return_moves_the_members_figures_and_tags_and_the_rebuild_agrees(shop):
    tags.ensure_rule_tags()
    # 高消费: ¥120 within 90 days (the till sales' window, net of their returns).
    Tag.objects.filter(rule=TagRule.HIGH_SPEND).update(min_spend=12000, days=90)
    member = shop["member"]
    tags.recompute_for_buyer(member.pk)
    high = Tag.objects.get(rule=TagRule.HIGH_SPEND)
    assert CustomerTag.objects.filter(user=member, tag=high).exists()
    row = CustomerFigures.objects.get(user=member)
    assert (row.paid_orders, row.total_spend, row.refunded) == (1, 12999, 0)

    refund(shop, "R-1")
    row.refresh_from_db()
    assert (row.paid_orders, row.total_spend, row.refunded) == (1, 12999 - 3333, 3333)
    assert not CustomerTag.objects.filter(user=member, tag=high).exists()

    figures.rebuild()
    row.refresh_from_db()
    assert (row.paid_orders, row.total_spend, row.refunded) == (1, 12999 - 3333, 3333)


def test_a_return_still_takes_back_commission_after_the_setting_was_turned_off(shop):
    store_settings(pos_commission=False)
    assert refund(shop, "R-1").json()["commission"] == {"reduced": (L1 - 999) + (L2 - 332), "clawed_back": 0}
    assert_totals_match_history()


def test_a_sale_that_earned_nothing_is_returned_without_commission(shop):
    stranger = shop["till"].call("POST", "/sales", sale("S-2", "13900000000", 500))
    assert stranger.json()["member_matched"] is False
    lines = [{"sku_code": "TILL-ONLY-1", "quantity": 1, "amount": 200}]
    reply = refund(shop, "R-1", lines, sale_id="S-2", refunded_at=timezone.now())
    assert reply.status_code == 200, reply.content
    assert reply.json()["commission"] == {"reduced": 0, "clawed_back": 0}
    assert OfflineSale.objects.get(sale_no="S-2").refunded_amount == 200
    assert_totals_match_history()


def test_the_backend_shows_a_sales_returns(shop):
    refund(shop, "R-1")
    boss = Client()
    boss.force_login(make_staff("boss", superuser=True))
    sale_row = OfflineSale.objects.get(sale_no="S-1")
    listing = boss.get(reverse("admin:stores_offlinesale_changelist"))
    assert listing.status_code == 200 and "¥33.33" in listing.content.decode()
    page = boss.get(reverse("admin:stores_offlinesale_change", args=[sale_row.pk]))
    assert page.status_code == 200
    assert "R-1" in page.content.decode() and "¥33.33" in page.content.decode()


def test_pages_and_the_api_show_a_till_commission_taken_back(shop):
    settlement.settle_due(after_freeze())
    refund(shop, "R-1", [{"sku_code": shop["code"], "quantity": 1, "amount": 3333}])
    guide_user = shop["guide"].user
    h5 = Client()
    h5.force_login(guide_user)
    assert h5.get("/d/commissions/").status_code == 200
    assert h5.get("/d/").status_code == 200
    items = api_for(guide_user).get("/distribution/commissions").json()["items"]
    assert [(c["offline"], c["amount"]) for c in items] == [(True, L1)]
    boss = Client()
    boss.force_login(make_staff("boss", superuser=True))
    commission = Commission.objects.get(level=1)
    change = boss.get(reverse("admin:distribution_commission_change", args=[commission.pk]))
    assert change.status_code == 200 and "门店退货" in change.content.decode()
    ledger_page = boss.get(reverse("admin:distribution_distributor_ledger", args=[shop["guide"].pk]))
    assert ledger_page.status_code == 200 and "已结算佣金追回" in ledger_page.content.decode()


def test_till_sales_count_for_grade_upgrades_net_of_returns(shop):
    """The sale (S-1: the cup's CUP_PAID plus a 3000 till-only line) counts for the 导购's own
    sales and orders and the upline's team, like a completed order; returns take it back."""
    from fenxiao.distribution.models import DistributorGrade
    from fenxiao.distribution.services import grades

    total = CUP_PAID + 3000
    guide_id, upline_id = shop["guide"].pk, shop["upline"].pk
    DistributorGrade.objects.create(name="普通", weight=1, is_default=True)
    senior = DistributorGrade.objects.create(name="高级", weight=2, min_own_sales=total, min_own_orders=1)
    measured = grades.metrics([guide_id, upline_id])
    assert measured[guide_id] == {
        "min_own_sales": total,
        "min_own_orders": 1,
        "min_single_order": total,
        "min_direct_team": 0,
        "min_team_sales": 0,
        "min_team_orders": 0,
        "min_settled_commission": 0,
    }
    assert (measured[upline_id]["min_team_sales"], measured[upline_id]["min_team_orders"]) == (total, 1)
    assert [(d.pk, d.grade_id) for d in grades.upgrade()] == [(guide_id, senior.pk)]

    assert refund(shop).status_code == 200
    partly = grades.metrics([guide_id])[guide_id]
    assert (partly["min_own_sales"], partly["min_single_order"], partly["min_own_orders"]) == (
        total - 3333,
        total - 3333,
        1,
    )
    rest = [
        {"sku_code": shop["code"], "quantity": 1, "amount": CUP_PAID - 3333},
        {"sku_code": "TILL-ONLY-1", "quantity": 1, "amount": 3000},
    ]
    assert refund(shop, "R-2", rest).status_code == 200
    emptied = grades.metrics([guide_id, upline_id])
    assert (emptied[guide_id]["min_own_sales"], emptied[guide_id]["min_own_orders"]) == (0, 0)
    assert (emptied[upline_id]["min_team_sales"], emptied[upline_id]["min_team_orders"]) == (0, 0)
