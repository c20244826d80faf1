"""The backend's settlement batches and withdrawals: create, approve, cancel and settle
batches; approve, reject and pay withdrawals, with the balance held and released."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fenxiao.distribution.models import (
    Commission,
    Distributor,
    LedgerEntry,
    Withdrawal,
)
from fenxiao.distribution.services import (
    config,
    dashboard,
    ledger,
    settlement,
    withdrawals,
)
from fenxiao.testing import in_english, make_staff

from .backend import (
    completed_order,
    credit,
    designate,
    list_url,
    login,
    request_withdrawal,
    texts,
    url,
)
from .helpers import settings_data

pytestmark = pytest.mark.django_db


# --- 结算 ------------------------------------------------------------------------------------


def test_batches_are_created_approved_and_cancelled_in_the_backend(world, staff, boss):
    batch = world["batch"]
    assert batch.status == "pending_review" and batch.commission_count == 2
    b = world["b"]
    before = ledger.balance(b.pk)
    reply = boss.post(url(batch, "approve_batch"), {"_confirm": "1"})
    assert reply.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "settled" and batch.approved_by == staff
    assert ledger.balance(b.pk) == before + 500  # the fixed ¥5.00 level-1 commission

    # Approving it again is refused and changes nothing.
    reply = boss.post(url(batch, "approve_batch"), {"_confirm": "1"})
    assert reply.status_code == 200
    assert "该结算批次不是待审核状态" in texts(reply)
    assert ledger.balance(b.pk) == before + 500

    # Nothing due: the list action says so.
    reply = boss.post(reverse("admin:distribution_settlementbatch_create_batch"), {"_confirm": "1"})
    assert reply.status_code == 302
    assert any("没有可结算的佣金" in t for t in texts(reply))


def test_settle_now_and_cancel_a_batch(world, staff, boss):
    buyer, sku = world["buyer"], world["sku"]
    order = completed_order(buyer, sku, staff)
    Commission.objects.filter(order=order).update(frozen_until=timezone.now())
    batch = settlement.create_batch(staff=staff)
    reply = boss.post(url(batch, "cancel_batch"), {"_confirm": "1"})
    assert reply.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "cancelled"
    assert set(Commission.objects.filter(order=order).values_list("status", "batch")) == {("frozen", None)}

    reply = boss.post(reverse("admin:distribution_settlementbatch_settle_now"), {"_confirm": "1"})
    assert reply.status_code == 302
    assert set(Commission.objects.filter(order=order).values_list("status", flat=True)) == {"settled"}


def test_commission_detail_explains_the_amount(world, boss):
    commission = Commission.objects.filter(distributor=world["b"], level=1).first()
    page = boss.get(url(commission)).content.decode()
    assert "¥5.00/件 × 1件" in page
    assert world["order"].number in boss.get(list_url(Commission)).content.decode()
    assert boss.get(list_url(Commission, "add")).status_code == 403


# --- 提现 ------------------------------------------------------------------------------------


@pytest.fixture
def earner(staff):
    config.update_settings(staff, withdraw_fee_bp=100)
    distributor = designate()
    credit(distributor, 10000)
    return distributor


def test_approving_an_alipay_withdrawal_pays_it_and_the_balance_drops(earner, staff, boss):
    withdrawal = request_withdrawal(earner, amount=2000)
    assert ledger.balance(earner.pk) == 8000  # held on request
    reply = boss.post(url(withdrawal, "approve"), {"_confirm": "1"})
    assert reply.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid" and withdrawal.decided_by == staff
    assert withdrawal.payout_reference.startswith("ALIPAY-SBX-")
    assert ledger.balance(earner.pk) == 8000
    assert dashboard.figures(earner)["commission_withdrawn"] == 2000
    assert any("已审核通过并打款 ¥19.80" in t for t in texts(reply))

    # Approving a paid one again: an error, and nothing changes.
    entries = LedgerEntry.objects.count()
    reply = boss.post(url(withdrawal, "approve"), {"_confirm": "1"})
    assert reply.status_code == 200
    assert "当前状态“已打款”不能变为“已审核，打款中”" in texts(reply)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert LedgerEntry.objects.count() == entries
    assert ledger.balance(earner.pk) == 8000

    # The bulk action says the same for it.
    reply = boss.post(
        list_url(Withdrawal),
        {"action": "approve_selected", "index": "0", "_selected_action": [str(withdrawal.pk)]},
    )
    assert reply.status_code == 302
    assert any(withdrawal.number in t for t in texts(reply))
    assert LedgerEntry.objects.count() == entries


def test_rejecting_a_withdrawal_releases_the_hold(earner, boss):
    withdrawal = request_withdrawal(earner, amount=3000)
    assert ledger.balance(earner.pk) == 7000
    reply = boss.post(url(withdrawal, "reject"), {"reason": ""})
    assert reply.status_code == 200
    assert ledger.balance(earner.pk) == 7000
    reply = boss.post(url(withdrawal, "reject"), {"reason": "账户信息有误"})
    assert reply.status_code == 302
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.reject_reason) == ("rejected", "账户信息有误")
    assert ledger.balance(earner.pk) == 10000


def test_bank_transfers_are_marked_paid_or_failed_by_hand(earner, boss):
    account = {"name": "王五", "bank": "招商银行", "account": "6225000000000001"}
    paid = request_withdrawal(earner, amount=1000, method="bank", account=account)
    failed = request_withdrawal(earner, amount=1000, method="bank", account=account)
    for withdrawal in (paid, failed):
        assert boss.post(url(withdrawal, "approve"), {"_confirm": "1"}).status_code == 302
        withdrawal.refresh_from_db()
        assert withdrawal.status == "approved"
    assert boss.post(url(paid, "mark_paid"), {"reference": "CMB20260101"}).status_code == 302
    assert boss.post(url(failed, "mark_failed"), {"reason": "户名不符"}).status_code == 302
    paid.refresh_from_db()
    failed.refresh_from_db()
    assert (paid.status, paid.payout_reference) == ("paid", "CMB20260101")
    assert (failed.status, failed.failure_reason) == ("failed", "户名不符")
    assert ledger.balance(earner.pk) == 9000


def test_a_days_failed_bank_transfers_are_marked_failed_together(earner, staff, boss):
    config.update_settings(staff, withdraw_limit=10)
    account = {"name": "王五", "bank": "招商银行", "account": "6225000000000001"}
    approved = [request_withdrawal(earner, amount=1000, method="bank", account=account) for _ in range(2)]
    for withdrawal in approved:
        withdrawals.approve(withdrawal, staff)
    waiting = request_withdrawal(earner, amount=1000, method="bank", account=account)
    assert ledger.balance(earner.pk) == 7000
    chosen = [str(w.pk) for w in [*approved, waiting]]
    reply = boss.post(
        list_url(Withdrawal), {"action": "mark_failed_selected", "index": "0", "_selected_action": chosen}
    )
    assert reply.status_code == 200 and "标记打款失败" in reply.content.decode()
    reply = boss.post(
        list_url(Withdrawal),
        {
            "action": "mark_failed_selected",
            "_confirm": "1",
            "select_across": "0",
            "_selected_action": chosen,
            "reason": "户名不符",
        },
    )
    assert reply.status_code == 302
    for withdrawal in approved:
        withdrawal.refresh_from_db()
        assert (withdrawal.status, withdrawal.failure_reason) == ("failed", "户名不符")
    # One not yet approved was never sent: it is refused by name and keeps its hold.
    waiting.refresh_from_db()
    assert waiting.status == "requested"
    assert any(waiting.number in t for t in texts(reply))
    assert ledger.balance(earner.pk) == 9000


def test_without_change_permission_staff_cannot_approve(earner):
    withdrawal = request_withdrawal(earner)
    viewer = login(make_staff("finance", perms=["distribution.view_withdrawal"]))
    assert viewer.get(list_url(Withdrawal)).status_code == 200
    assert viewer.get(url(withdrawal)).status_code == 200
    assert viewer.post(url(withdrawal, "approve"), {"_confirm": "1"}).status_code == 403
    viewer.post(
        list_url(Withdrawal),
        {"action": "approve_selected", "index": "0", "_selected_action": [str(withdrawal.pk)]},
    )
    withdrawal.refresh_from_db()
    assert withdrawal.status == "requested"
    # Nor can anyone without distribution permissions see the pages.
    stranger = login(make_staff("clerk"))
    assert stranger.get(list_url(Withdrawal)).status_code == 403
    assert stranger.get(list_url(Distributor)).status_code == 403


# --- the payout file ------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads the Chinese
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_and_xlsx_export_the_selected_withdrawals(earner, boss):
    earner.real_name = "王五"
    earner.save()
    first = request_withdrawal(earner, amount=2000)
    second = request_withdrawal(
        earner,
        amount=1234,
        method="bank",
        account={"name": '=HYPERLINK("x")', "bank": "招商银行", "account": "6225000000000001"},
    )
    selected = {"index": "0", "_selected_action": [str(first.pk), str(second.pk)]}

    reply = boss.post(list_url(Withdrawal), {"action": "export_selected_csv", **selected})
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("text/csv")
    assert "attachment" in reply["Content-Disposition"]
    rows = read_csv(reply)
    assert rows[0][:3] == ["提现单号", "分销商", "手机号"]
    assert [r[0] for r in rows[1:]] == [first.number, second.number]
    assert rows[1][1] == "王五" and rows[1][2] == earner.user.phone
    assert rows[1][4] == "支付宝" and rows[1][7] == "b@alipay.com"
    assert rows[1][8:11] == ["20.00", "0.20", "19.80"]
    assert rows[2][8:11] == ["12.34", "0.12", "12.22"]
    assert rows[2][5] == '\'=HYPERLINK("x")'  # never a formula in a spreadsheet
    assert rows[1][11] == "待审核"

    reply = boss.post(list_url(Withdrawal), {"action": "export_selected_xlsx", **selected})
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(reply.content)).active
    values = list(sheet.values)
    assert values[0][0] == "提现单号"
    assert [v[0] for v in values[1:]] == [first.number, second.number]
    assert [Decimal(str(v)) for v in values[1][8:11]] == [Decimal("20.00"), Decimal("0.20"), Decimal("19.80")]
    assert sheet.cell(row=2, column=9).number_format == "0.00"
    assert values[2][5] == '\'=HYPERLINK("x")'
    assert sheet.cell(row=3, column=6).data_type == "s"


def test_export_of_the_filtered_list(earner, boss):
    kept = request_withdrawal(earner, amount=2000)
    dropped = request_withdrawal(earner, amount=1000)
    withdrawals.reject(dropped, None, reason="测试")
    listing = boss.get(list_url(Withdrawal), {"status__exact": "requested"})
    assert (
        reverse("admin:distribution_withdrawal_export", args=["csv"]) + "?status__exact=requested"
        in listing.content.decode()
    )
    reply = boss.get(
        reverse("admin:distribution_withdrawal_export", args=["csv"]), {"status__exact": "requested"}
    )
    assert [r[0] for r in read_csv(reply)[1:]] == [kept.number]
    reply = boss.get(reverse("admin:distribution_withdrawal_export", args=["xlsx"]))
    assert reply.status_code == 200
    assert boss.get(reverse("admin:distribution_withdrawal_export", args=["pdf"])).status_code == 404
    stranger = login(make_staff("clerk"))
    assert stranger.get(reverse("admin:distribution_withdrawal_export", args=["csv"])).status_code == 403


def test_view_only_staff_see_distributors_but_cannot_change_them(world):
    viewer = login(make_staff("ops", perms=["distribution.view_distributor"]))
    b = world["b"]
    assert viewer.get(list_url(Distributor)).status_code == 200
    page = viewer.get(url(b))
    assert page.status_code == 200
    assert "暂停" not in [a["title"] for a in page.context["actions_detail"]]
    assert viewer.get(reverse("admin:distribution_distributor_ledger", args=[b.pk])).status_code == 200
    assert viewer.post(url(b, "suspend"), {"reason": "违规"}).status_code == 403
    assert viewer.post(url(world["pending"], "approve"), {"_confirm": "1"}).status_code == 403
    assert viewer.get(reverse("admin:distribution_distributor_designate")).status_code == 403
    b.refresh_from_db()
    world["pending"].refresh_from_db()
    assert (b.status, world["pending"].status) == ("active", "pending")
    # Settings: a viewer sees them read only and cannot save.
    settings_viewer = login(make_staff("ops", perms=["distribution.view_distributionsettings"]))
    cfg = config.current()
    assert settings_viewer.get(url(cfg)).status_code == 200
    assert settings_viewer.post(url(cfg), settings_data(cfg, levels=3)).status_code == 403
    cfg.refresh_from_db()
    assert cfg.levels == 2


def test_an_export_asked_for_in_english_is_the_shop_file_in_chinese(earner, boss):
    """Finance hands the file on as it is: its labels are those of the file a background
    job writes, whatever language the list was read in."""
    request_withdrawal(earner, amount=2000)
    reply = in_english(boss).get(reverse("admin:distribution_withdrawal_export", args=["csv"]))
    rows = read_csv(reply)
    assert rows[0][0] == "提现单号" and rows[1][4] == "支付宝" and rows[1][11] == "待审核"
