"""每日对账 → 导出: the reconciled days as CSV or Excel for finance, oldest first, as the
list is filtered, with the day's figures in yuan to the fen."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from fenxiao.distribution.models import Reconciliation
from fenxiao.distribution.services import exports, reconciliation

from .backend import list_url

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:distribution_reconciliation_export", args=["csv"])


def day(on: date, ok: bool, **figures) -> Reconciliation:
    return Reconciliation.objects.create(
        day=on, ok=ok, problem_count=0 if ok else 2, figures=figures, checks=[], ran_at=timezone.now()
    )


def test_the_headers_follow_the_pages_figures():
    labels = [str(label) for _key, label, _money in reconciliation.FIGURES]
    headers = exports.RECONCILIATION_HEADERS[3:-2]
    assert [h.removesuffix("（元）") for h in headers] == labels


def test_finance_downloads_the_filtered_days_with_their_figures(boss):
    first, second = date(2026, 11, 1), date(2026, 11, 2)
    day(second, False, withdrawal_paid=123456, paid_orders=7)
    day(first, True, commission_settled=1050, balance_total=-5)
    page = boss.get(list_url(Reconciliation)).content.decode()
    assert EXPORT in page
    reply = boss.get(EXPORT)
    assert reply.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert header[:3] == ["对账日期", "结果", "不一致项"] and header[-1] == "发起人"
    table = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["对账日期"] for r in table] == ["2026-11-01", "2026-11-02"]
    assert (table[0]["结果"], table[0]["结算入账（元）"], table[0]["分销商余额合计（日终）（元）"]) == (
        "全部一致",
        "10.50",
        "-0.05",
    )
    assert (table[1]["结果"], table[1]["不一致项"], table[1]["提现打款（元）"], table[1]["付款订单数"]) == (
        "有不一致",
        "2",
        "1234.56",
        "7",
    )
    assert table[1]["发起人"] == "系统（每日自动）"
    only_problems = list(
        csv.reader(io.StringIO(boss.get(EXPORT, {"ok__exact": "0"}).content.decode("utf-8-sig")))
    )
    assert [row[0] for row in only_problems[1:]] == ["2026-11-02"]
    xlsx = boss.get(reverse("admin:distribution_reconciliation_export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
