"""The H5 withdraw page (/d/withdraw/) offers a request only when the server would take it:
once the period's requests (每日/每周/每月最多 N 次) are used up it says when the next one
is possible instead of a form that is refused after it is filled in."""

import re
from datetime import datetime

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.distribution.services import withdrawals
from fenxiao.testing import make_staff

from .helpers import configure, earn, full_refund, make_distributor

pytestmark = pytest.mark.django_db

ALIPAY = {"name": "王五", "account": "wangwu@example.com"}
BANK = {"name": "王五", "bank": "招商银行杭州分行", "account": "6214830123456789"}
FORM = {"amount": "10.00", "method": "alipay", "name": "王五", "account": "wangwu@example.com"}


@pytest.fixture
def rich():
    """¥100.00 withdrawable (a ¥1000.00 sale at 10%), signed in on the H5 center."""
    distributor = make_distributor()
    earn(distributor, 100000)
    client = Client()
    client.force_login(distributor.user)
    return distributor, client


def shown(page: str) -> str:
    """The page's text, tags aside (the date sits in a span that keeps it on one line)."""
    return re.sub(r"<[^>]*>", "", page)


def offers_the_form(page: str) -> bool:
    return 'name="amount"' in page and "申请提现</button>" in page


def test_the_page_says_when_the_next_request_is_possible_once_the_month_is_used_up(rich):
    distributor, client = rich
    configure(withdraw_limit=2, withdraw_period="monthly")
    now = timezone.localtime()
    next_month = datetime(now.year + now.month // 12, now.month % 12 + 1, 1).strftime("%Y-%m-%d")
    first = withdrawals.request(distributor, amount=1000, method="alipay", account=ALIPAY)
    assert offers_the_form(client.get("/d/withdraw/").content.decode())

    withdrawals.request(distributor, amount=1000, method="alipay", account=ALIPAY)
    page = client.get("/d/withdraw/").content.decode()
    assert not offers_the_form(page)
    assert f"每月最多提现 2 次，本月的次数已用完，{next_month} 起可再申请。" in shown(page)
    assert 'data-testid="withdraw-available">¥80.00<' in page

    # A request sent all the same (another tab) is refused and the page stays without a form.
    refused = client.post("/d/withdraw/", FORM)
    assert refused.status_code == 400
    assert "本月最多提现2次" in refused.content.decode()
    assert not offers_the_form(refused.content.decode())

    # A rejected request gives its turn back: the form returns.
    withdrawals.reject(first, make_staff(superuser=True), reason="账号有误")
    page = client.get("/d/withdraw/").content.decode()
    assert offers_the_form(page) and "次数已用完" not in page
    assert client.post("/d/withdraw/", FORM).status_code == 302


def test_a_daily_limit_reopens_tomorrow(rich):
    distributor, client = rich
    configure(withdraw_limit=1, withdraw_period="daily")
    withdrawals.request(distributor, amount=1000, method="alipay", account=ALIPAY)
    tomorrow = (timezone.localtime() + timezone.timedelta(days=1)).strftime("%Y-%m-%d")
    page = client.get("/d/withdraw/").content.decode()
    assert not offers_the_form(page)
    assert f"每天最多提现 1 次，今天的次数已用完，{tomorrow} 起可再申请。" in shown(page)


def test_the_next_period_starts_where_the_service_counts_from():
    tz = timezone.get_current_timezone()
    wednesday = datetime(2026, 12, 30, 23, 59, tzinfo=tz)
    assert withdrawals.next_period_start("daily", wednesday) == datetime(2026, 12, 31, tzinfo=tz)
    assert withdrawals.next_period_start("weekly", wednesday) == datetime(2027, 1, 4, tzinfo=tz)
    assert withdrawals.next_period_start("monthly", wednesday) == datetime(2027, 1, 1, tzinfo=tz)
    for period in ("daily", "weekly", "monthly"):
        nxt = withdrawals.next_period_start(period, wednesday)
        assert withdrawals.period_start(period, nxt) == nxt


def test_the_whole_withdrawal_history_is_reachable(rich, django_assert_max_num_queries):
    """Past the newest 20 the page leads on to earlier withdrawals (it stopped at 30 before),
    and an earlier page is the history alone, at no greater cost."""
    distributor, client = rich
    configure(withdraw_limit=50, withdraw_period="daily")
    earn(distributor, 400000)  # ¥500.00 in all
    for n in range(33):
        withdrawals.request(distributor, amount=1000 + n, method="alipay", account=ALIPAY)
    asked = [f"¥10.{n:02d}" for n in range(33)]
    seen, address, pages = [], "/d/withdraw/", []
    while address:
        with django_assert_max_num_queries(40) as counted:
            page = client.get(address).content.decode()
        pages.append((page, len(counted.captured_queries)))
        seen += re.findall(r'data-testid="withdrawal">\s*<div class="row"><b>(¥[\d.]+)</b>', page)
        more = re.search(r'href="(\?before=\d+)" data-testid="more"', page)
        address = "/d/withdraw/" + more.group(1) if more else None
        assert len(pages) < 5
    assert seen == asked[::-1]
    assert len(pages) == 2
    newest, earlier = pages[0][0], pages[1][0]
    assert offers_the_form(newest) and not offers_the_form(earlier)
    assert 'href="/d/withdraw/">回到最新</a>' in earlier
    assert pages[1][1] <= pages[0][1]


def test_a_balance_owed_after_a_refund_is_explained_not_read_as_a_small_one():
    """A refund after the money was paid out leaves the balance below zero (退款追回): the page
    says later commission pays it off first, not only that ¥10.00 is enough to withdraw."""
    distributor = make_distributor()
    order = earn(distributor, 10000)  # ¥10.00
    withdrawals.approve(
        withdrawals.request(distributor, amount=1000, method="store_credit"), make_staff(superuser=True)
    )
    full_refund(order)  # clawed back after it was paid out: −¥10.00
    client = Client()
    client.force_login(distributor.user)
    page = client.get("/d/withdraw/").content.decode()
    assert not offers_the_form(page)
    assert 'data-testid="withdraw-available">-¥10.00<' in page
    assert "账户余额为 -¥10.00（退款追回），需由后续佣金抵扣后才能提现" in page


def test_a_refused_or_failed_withdrawal_says_where_the_money_went_under_the_notice_s_number(rich):
    """The notice names the withdrawal by number and says the money is back; its page lists
    it under that number and says the same, with the next step for a failed payout."""
    distributor, client = rich
    staff = make_staff(superuser=True)
    rejected = withdrawals.request(distributor, amount=1000, method="alipay", account=ALIPAY)
    withdrawals.reject(rejected, staff, reason="账号有误")
    failed = withdrawals.request(distributor, amount=2000, method="bank", account=BANK)
    withdrawals.approve(failed, staff)
    withdrawals.mark_failed(failed, staff, reason="账户已销户")
    waiting = withdrawals.request(distributor, amount=3000, method="alipay", account=ALIPAY)

    page = client.get("/d/withdraw/").content.decode()
    rows = page.split('data-testid="withdrawal"')[1:]
    assert [re.search(r"提现单号 (W\d+)", row).group(1) for row in rows] == [
        waiting.number,
        failed.number,
        rejected.number,
    ]
    assert "已退回可提现余额" not in rows[0]
    assert "¥20.00 已退回可提现余额，可修改收款信息后重新申请" in rows[1]
    assert "失败原因：账户已销户" in rows[1]
    assert "¥10.00 已退回可提现余额<" in rows[2] and "拒绝原因：账号有误" in rows[2]
