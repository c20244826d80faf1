"""A buyer says whether promotion pushes may reach them by SMS: on the H5 账号设置
page and through `PATCH /me`; leaving a field out of the PATCH changes nothing."""

import pytest
from django.test import Client

from fenxiao.customers.models import User
from fenxiao.customers.services import accounts
from fenxiao.testing import ApiClient, assert_refused, make_buyer

pytestmark = pytest.mark.django_db


def test_the_api_reads_and_changes_the_consent_and_keeps_what_is_left_out():
    buyer = make_buyer(nickname="小王")
    api = ApiClient(accounts.issue_token(buyer))
    assert api.get("/me").json()["accepts_marketing"] is True

    changed = api.patch("/me", {"accepts_marketing": False}).json()
    assert (changed["accepts_marketing"], changed["nickname"]) == (False, "小王")
    assert api.patch("/me", {"nickname": "老王"}).json()["accepts_marketing"] is False
    buyer.refresh_from_db()
    assert (buyer.accepts_marketing, buyer.nickname) == (False, "老王")

    assert_refused(api.patch("/me", {"accepts_marketing": "sometimes"}), 422, "INVALID_INPUT")
    assert_refused(api.patch("/me", {"marketing": False}), 422, "INVALID_INPUT")


def test_the_settings_page_switches_promotion_pushes_off_and_on():
    buyer = make_buyer()
    browser = Client()
    browser.force_login(buyer)
    page = browser.get("/me/settings/").content.decode()
    assert "通过短信接收活动推送" in page and 'name="accepts_marketing" value="1" checked' in page

    # An unticked box sends nothing: the switch is off.
    answer = browser.post("/me/settings/", {"action": "marketing"}, follow=True)
    assert "已关闭活动推送" in answer.content.decode()
    assert User.objects.get(pk=buyer.pk).accepts_marketing is False
    assert 'value="1" checked' not in browser.get("/me/settings/").content.decode()

    browser.post("/me/settings/", {"action": "marketing", "accepts_marketing": "1"})
    assert User.objects.get(pk=buyer.pk).accepts_marketing is True


def test_the_backend_customer_page_says_whether_pushes_reach_them_outside_the_site():
    from django.urls import reverse

    from fenxiao.customers.tests.crm import operations

    buyer = make_buyer()
    client = operations()
    url = reverse("admin:customers_customer_change", args=[buyer.pk])
    assert "接收短信推送" in client.get(url).content.decode()
    accounts.update_profile(buyer, accepts_marketing=False)
    assert "已拒收（仅站内消息）" in client.get(url).content.decode()


def test_the_customer_list_filters_and_exports_who_accepts_promotions():
    import csv
    import io

    from django.urls import reverse

    from fenxiao.customers.tests.crm import operations

    make_buyer(nickname="愿意")
    no = make_buyer(nickname="拒收")
    accounts.update_profile(no, accepts_marketing=False)
    client = operations()
    listing = reverse("admin:customers_customer_changelist")
    declined = client.get(listing, {"marketing": "no"}).content.decode()
    assert "拒收" in declined and "愿意" not in declined
    assert "愿意" in client.get(listing, {"marketing": "yes"}).content.decode()

    body = client.get(reverse("admin:customers_customer_export", args=["csv"])).content.decode("utf-8-sig")
    rows = {r["昵称"]: r["接收活动推送"] for r in csv.DictReader(io.StringIO(body))}
    assert (rows["愿意"], rows["拒收"]) == ("是", "否")
