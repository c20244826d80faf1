"""A suspended distributor still reads their own money (figures, commissions, ledger,
balance, withdrawals) in the app and the H5 center, and can neither withdraw nor share.
Commissions can be looked up by order, in the app and in the backend."""

import pytest
from django.test import Client
from django.urls import reverse

from fenxiao.distribution.models import Commission, Withdrawal
from fenxiao.testing import api_for, make_product, make_staff

from .helpers import bound_buyer, buy, earn, ledger_sum, make_distributor, sku, suspend

pytestmark = pytest.mark.django_db

ALIPAY = {"name": "王五", "account": "wangwu@example.com"}


@pytest.fixture
def suspended():
    """¥100.00 settled from a ¥1000.00 sale at 10%, ¥10.00 already asked for, then suspended."""
    distributor = make_distributor()
    earn(distributor, 100000)
    reply = api_for(distributor.user).post(
        "/distribution/withdrawals", {"amount": 1000, "method": "alipay", "account": ALIPAY}
    )
    assert reply.status_code == 201
    suspend(distributor)
    return distributor


def test_a_suspended_distributor_reads_their_account_through_the_api(suspended):
    app = api_for(suspended.user)
    profile = app.get("/distribution/profile").json()
    assert (profile["id"], profile["status"], profile["is_distributor"]) == (suspended.pk, "suspended", False)

    assert app.get("/distribution/balance").json() == {"available": 9000, "available_display": "¥90.00"}
    assert ledger_sum(suspended) == 9000
    ledger = app.get("/distribution/ledger").json()
    assert [(e["kind"], e["amount"]) for e in ledger["items"]] == [
        ("withdrawal_hold", -1000),
        ("commission", 10000),
    ]
    withdrawals = app.get("/distribution/withdrawals").json()["items"]
    assert [(w["amount"], w["status"]) for w in withdrawals] == [(1000, "requested")]
    commissions = app.get("/distribution/commissions").json()["items"]
    assert [(c["net_amount"], c["status"]) for c in commissions] == [(10000, "settled")]
    assert app.get("/distribution/dashboard").json()["commission_available"] == 9000


def test_a_suspended_distributor_cannot_withdraw_share_or_see_the_team(suspended):
    app = api_for(suspended.user)
    reply = app.post("/distribution/withdrawals", {"amount": 1000, "method": "alipay", "account": ALIPAY})
    assert reply.status_code == 403
    assert reply.json() == {"code": "NOT_A_DISTRIBUTOR", "message": "您还不是分销商"}
    assert Withdrawal.objects.count() == 1
    assert app.get("/distribution/team").status_code == 403
    assert app.get("/distribution/rankings").status_code == 403


def test_a_suspended_distributor_reads_their_account_in_the_h5_center(suspended):
    browser = Client()
    browser.force_login(suspended.user)

    center = browser.get("/d/")
    assert center.status_code == 200
    page = center.content.decode()
    assert 'data-testid="available">¥90.00' in page
    assert "违规推广，暂停" in page and "不能推广或提现" in page
    assert "/d/share/" not in page and "我的推广链接" not in page
    assert suspended.referral_code not in page

    commissions = browser.get("/d/commissions/")
    assert commissions.status_code == 200
    assert "¥100.00" in commissions.content.decode()

    withdraw = browser.get("/d/withdraw/")
    assert withdraw.status_code == 200
    page = withdraw.content.decode()
    assert 'data-testid="withdraw-paused"' in page
    assert 'data-testid="withdrawal"' in page and "¥10.00" in page
    assert 'name="amount"' not in page

    reply = browser.post("/d/withdraw/", {"amount": "10.00", "method": "alipay", **ALIPAY}, follow=True)
    assert "分销资格暂停期间不能提现" in reply.content.decode()
    assert Withdrawal.objects.count() == 1
    for path in ("/d/share/", "/d/team/", "/d/rankings/"):
        assert browser.get(path)["Location"] == "/d/"
    assert browser.get("/d/share/qr.png").status_code == 404


def test_commissions_are_filtered_by_order_number_or_id():
    a = make_distributor()
    b = make_distributor(parent=a)
    product = make_product(price=10000)
    first = buy(bound_buyer(b), (sku(product), 1))
    second = buy(bound_buyer(b), (sku(product), 2))

    app = api_for(b.user)
    by_number = app.get("/distribution/commissions", order=first.number).json()
    assert [(c["order_number"], c["amount"]) for c in by_number["items"]] == [(first.number, 1000)]
    by_id = app.get("/distribution/commissions", order=str(second.pk)).json()
    assert [(c["order_number"], c["amount"]) for c in by_id["items"]] == [(second.number, 2000)]
    assert app.get("/distribution/commissions", order="NO-SUCH-ORDER").json() == {"items": [], "next": None}
    # a sees only their own commission on the same order (level 2).
    assert len(api_for(a.user).get("/distribution/commissions", order=first.number).json()["items"]) == 1

    staff = Client()
    staff.force_login(make_staff("boss", superuser=True))
    url = reverse("admin:distribution_commission_changelist")
    for value in (first.number, str(first.pk)):
        reply = staff.get(url, {"order": value})
        assert reply.status_code == 200
        shown = {c.pk for c in reply.context["cl"].result_list}
        assert shown == set(Commission.objects.filter(order=first).values_list("pk", flat=True))
        assert len(shown) == 2  # levels 1 and 2
