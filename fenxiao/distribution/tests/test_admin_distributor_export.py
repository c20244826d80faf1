"""分销商 → 导出: the distributor list as CSV or Excel, as it is filtered and searched, with
the figures the list shows (amounts in yuan to the fen); phones masked for staff who may
not see them; a fixed number of queries however many distributors."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.distribution.models import Distributor, DistributorGrade
from fenxiao.testing import login, make_staff

from .backend import list_url
from .helpers import earn, make_distributor

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:distribution_distributor_export", args=["csv"])


def read(reply) -> list[list[str]]:
    assert reply.status_code == 200, reply.status_code
    return list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))


@pytest.fixture
def team():
    gold = DistributorGrade.objects.create(name="金牌", weight=3)
    leader = make_distributor(grade=gold)
    leader.real_name = "王小明"
    leader.save(update_fields=["real_name"])
    member = make_distributor(parent=leader)
    earn(leader, 12345)  # 10% level 1: ¥12.34 settled
    paused = make_distributor(status="suspended")
    return leader, member, paused


def test_the_list_offers_the_export_with_its_filters(boss, team):
    page = boss.get(list_url(Distributor), {"status__exact": "active"}).content.decode()
    assert f"{EXPORT}?status__exact=active" in page


def test_the_file_is_the_filtered_list_with_its_figures(boss, team):
    leader, member, paused = team
    rows = read(boss.get(EXPORT, {"status__exact": "active"}))
    header, *body = rows
    assert header[:4] == ["分销商", "手机号", "推广码", "状态"]
    by_code = {row[2]: dict(zip(header, row, strict=True)) for row in body}
    assert set(by_code) == {leader.referral_code, member.referral_code}
    row = by_code[leader.referral_code]
    assert (row["分销商"], row["手机号"], row["等级"], row["状态"]) == (
        "王小明",
        leader.user.phone,
        "金牌",
        "正常",
    )
    assert (row["直属团队"], row["推广订单"]) == ("1", "1")
    assert Decimal(row["推广销售额（元）"]) == Decimal("123.45")
    assert Decimal(row["可提现（元）"]) == Decimal("12.34")
    assert by_code[member.referral_code]["上级推广码"] == leader.referral_code
    searched = read(boss.get(EXPORT, {"q": paused.user.phone}))
    assert [(r[2], r[3]) for r in searched[1:]] == [(paused.referral_code, "暂停")]


def test_finance_gets_masked_phones(team):
    leader = team[0]
    finance = login(make_staff("finance", perms=["distribution.view_distributor"]))
    rows = read(finance.get(EXPORT))
    phones = {r[2]: r[1] for r in rows[1:]}
    assert phones[leader.referral_code] == leader.user.phone[:3] + "****" + leader.user.phone[-4:]


def test_the_file_costs_the_same_queries_for_more_distributors(boss, team):
    with CaptureQueriesContext(connection) as few:
        read(boss.get(EXPORT))
    for _ in range(5):
        make_distributor(parent=team[0])
    with CaptureQueriesContext(connection) as more:
        assert len(read(boss.get(EXPORT))) == 1 + 8
    assert len(more) == len(few)


def test_excel_too(boss, team):
    reply = boss.get(reverse("admin:distribution_distributor_export", args=["xlsx"]))
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("application/vnd.openxmlformats")
