"""佣金提现 fills in the payout method and account the distributor was last paid to (or is
being paid to), so a bank card is not typed for every withdrawal: never one that was
refused or failed, never one of a method the shop no longer offers, never anyone else's;
a refused request keeps what was typed instead."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.services import withdrawals
from fenxiao.distribution.tests.helpers import configure, earn, make_distributor
from fenxiao.testing import make_staff

pytestmark = pytest.mark.django_db

BANK = {"name": "王五", "bank": "招商银行杭州分行", "account": "6214830123456789"}
OTHER_BANK = {"name": "王五", "bank": "工商银行西湖支行", "account": "6222021234567890123"}
THIRD_BANK = {"name": "王五", "bank": "建设银行滨江支行", "account": "6217001234567890"}
ALIPAY = {"name": "王五", "account": "wangwu@example.com"}


@pytest.fixture
def distributor():
    distributor = make_distributor()
    earn(distributor, 100000)  # ¥100.00 withdrawable
    return distributor


def form(distributor) -> dict[str, str]:
    """What the withdraw form holds as sent: the chosen method and each field's value."""
    client = Client()
    client.force_login(distributor.user)
    html = client.get("/d/withdraw/").content.decode()
    shown = html[html.index("data-payout-form") : html.index("</form>")]
    values = dict(re.findall(r'<input name="(\w+)"[^>]*value="([^"]*)"', shown))
    chosen = re.search(r'<option value="(\w+)" selected>', shown)
    return {"method": chosen.group(1) if chosen else ""} | {
        k: values[k] for k in ("name", "account", "bank") if k in values
    }


def test_a_first_withdrawal_starts_blank(distributor):
    assert form(distributor) == {"method": "", "name": "", "account": "", "bank": ""}


def test_the_last_paid_account_is_filled_in(distributor):
    withdrawal = withdrawals.request(distributor, amount=1000, method="bank", account=BANK)
    withdrawals.approve(withdrawal, make_staff())
    withdrawals.mark_paid(withdrawal, make_staff("finance"), reference="B-1")
    assert form(distributor) == {"method": "bank", **BANK}


def test_a_request_under_way_counts_and_the_latest_wins(distributor):
    withdrawals.request(distributor, amount=1000, method="bank", account=BANK)
    withdrawals.request(distributor, amount=1000, method="alipay", account=ALIPAY)
    assert form(distributor) == {"method": "alipay", **ALIPAY, "bank": ""}


def test_a_rejected_or_failed_account_is_passed_over(distributor):
    staff = make_staff()
    withdrawals.request(distributor, amount=1000, method="bank", account=BANK)
    rejected = withdrawals.request(distributor, amount=1000, method="bank", account=OTHER_BANK)
    withdrawals.reject(rejected, staff, reason="户名与卡号不符")
    failed = withdrawals.request(distributor, amount=1000, method="bank", account=THIRD_BANK)
    withdrawals.approve(failed, staff)
    withdrawals.mark_failed(failed, staff, reason="账户不存在")
    assert form(distributor) == {"method": "bank", **BANK}


def test_a_method_the_shop_turned_off_is_not_offered_again(distributor):
    withdrawals.request(distributor, amount=1000, method="bank", account=BANK)
    configure(withdraw_methods=["alipay", "store_credit"])
    assert form(distributor) == {"method": "", "name": "", "account": ""}


def test_only_their_own_account(distributor):
    withdrawals.request(distributor, amount=1000, method="bank", account=BANK)
    stranger = make_distributor()
    earn(stranger, 100000)
    page = form(stranger)
    assert page == {"method": "", "name": "", "account": "", "bank": ""}


def test_a_refused_request_keeps_what_was_typed_not_the_remembered_account(distributor):
    withdrawals.request(distributor, amount=1000, method="bank", account=BANK)
    client = Client()
    client.force_login(distributor.user)
    typed = {"amount": "5.00", "method": "alipay", "name": "王五", "account": "not-an-account"}
    reply = client.post("/d/withdraw/", typed)
    assert reply.status_code == 400
    html = reply.content.decode()
    assert 'value="not-an-account"' in html and BANK["account"] not in html.split("提现记录")[0]
    assert '<option value="alipay" selected>' in html
