"""The 数据 pages in English: 经营概况 (the backend home) and the sales, distribution, traffic
and store reports, read from aggregate rows of a small shop with English names, show nothing
Chinese outside the shop's own data; a bad period is refused in English; the staff API
answers in English with the same code; without a choice the pages stay Chinese."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.analytics.models import (
    BuyerDay,
    CategoryDay,
    CommissionDay,
    DailySales,
    DistributionDay,
    DistributorDay,
    ProductDay,
    ReportWatermark,
    TrafficDay,
    VisitorDay,
)
from fenxiao.analytics.services import aggregates
from fenxiao.customers.services.accounts import issue_token
from fenxiao.stores.models import Store, StoreStaff
from fenxiao.testing import (
    backend_content,
    chinese_left,
    english_backend_page,
    in_english,
    login,
    make_buyer,
    make_category,
    make_product,
    make_staff,
)

pytestmark = pytest.mark.django_db

# The shop's own data the pages show (names as entered).
DATA = ("Green tea", "Drinks", "Lakeside", "Alice", "Gold")


@pytest.fixture
def shop():
    now = timezone.now()
    yesterday = timezone.localdate() - timedelta(days=1)
    before = yesterday - timedelta(days=7)
    product = make_product("Green tea", category=make_category("Drinks"))
    buyer = make_buyer(nickname="Bob")
    store = Store.objects.create(
        name="Lakeside", province="Zhejiang", city="Hangzhou", address_detail="1 Wensan Road"
    )
    StoreStaff.objects.create(store=store, user=make_buyer(nickname="Alice"), role=StoreStaff.Role.GUIDE)
    for day, scale in ((yesterday, 2), (before, 1)):
        DailySales.objects.create(
            day=day,
            paid_orders=3 * scale,
            units=4 * scale,
            gmv=30000 * scale,
            refunds=1000,
            refund_count=1,
            discount_coupon=500,
            distributor_orders=scale,
            distributor_gmv=10000 * scale,
        )
        BuyerDay.objects.create(day=day, buyer_id=buyer.pk, placed_orders=1, paid_orders=1, paid_amount=100)
        ProductDay.objects.create(
            day=day,
            product_id=product.pk,
            category_id=product.category_id,
            orders=scale,
            units=scale,
            sales=9900 * scale,
        )
        CategoryDay.objects.create(day=day, category_id=product.category_id, orders=scale)
        DistributorDay.objects.create(
            day=day, distributor_id=987654, orders=scale, sales=5000 * scale, commission_accrued=500
        )
        CommissionDay.objects.create(day=day, level=1, grade_name="Gold", accrued_count=1, accrued=500)
        DistributionDay.objects.create(
            day=day, new_distributors=scale, withdrawals_paid=1, withdrawn_amount=100
        )
        TrafficDay.objects.create(
            day=day, source="link", distributor_id=987654, visits=5, page_views=20, product_visits=4
        )
        VisitorDay.objects.create(
            day=day, visitor=f"v{scale}", source="link", page_views=3, first_seen_at=now, last_seen_at=now
        )
    ReportWatermark.objects.create(name=aggregates.WATERMARK, refreshed_at=now)
    return in_english(login(make_staff("boss", superuser=True)))


def english_page(client, url):
    return english_backend_page(client, url, *DATA)


def test_the_dashboard_is_english(shop):
    for chosen in ("today", "7d"):
        html = english_page(shop, f"/backend/?range={chosen}")
        assert "Key figures" in html and "Amount paid" in html and "Shortcuts" in html
    # A fresh shop: the quick-setup invitation, in English too.
    assert "Open the quick setup wizard" in html


@pytest.mark.parametrize("key", ["sales", "distribution", "traffic", "stores"])
@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_each_report_page_is_english(shop, key, grain):
    html = english_page(shop, f"/backend/data/{key}/?range=30d&grain={grain}")
    assert "Export CSV" in html and "Total" in html


def test_a_bad_period_is_refused_in_english(shop):
    reply = shop.get("/backend/data/sales/?grain=yearly")
    assert reply.status_code == 400
    html = reply.content.decode()
    assert "Granularity must be by day, by week or by month" in html
    assert chinese_left(backend_content(html)) == []


def test_an_export_from_the_english_page_has_english_headers(shop):
    reply = shop.get("/backend/data/sales/export/csv/?range=30d&report=sales-by-product")
    assert reply.status_code == 200
    header = next(csv.reader(io.StringIO(reply.content.decode("utf-8").lstrip("\ufeff"))))
    assert header[0] == "Product" and "Amount paid (¥)" in header


def test_the_staff_api_refuses_in_english_with_the_same_code():
    boss = make_staff("boss", superuser=True)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(boss)}"}
    english = Client().get("/api/v1/staff/reports/sales?grain=yearly", HTTP_ACCEPT_LANGUAGE="en", **headers)
    chinese = Client().get("/api/v1/staff/reports/sales?grain=yearly", **headers)
    assert english.status_code == chinese.status_code == 400
    assert english.json()["code"] == chinese.json()["code"] == "REPORT_PERIOD_INVALID"
    assert english.json()["message"] == "Granularity must be by day, by week or by month"
    assert chinese.json()["message"] == "统计粒度只能是按日、按周或按月"


def test_without_a_choice_the_pages_stay_chinese(shop):
    client = login(make_staff("boss", superuser=True))
    html = client.get("/backend/data/sales/?range=30d").content.decode()
    assert "销售趋势" in html and "导出 CSV" in html and "Export CSV" not in html
    html = client.get("/backend/").content.decode()
    assert "核心指标" in html and "Key figures" not in html


def test_an_empty_report_and_its_next_step_are_english(shop):
    html = english_page(shop, "/backend/data/sales/?start=2020-01-01&end=2020-01-05")
    assert "No data in the selected time range" in html and "Show: Last 30 days" in html
    html = english_page(shop, "/backend/data/sales/?start=2020-01-01&end=2020-01-31")
    assert "Show: Last year (by month)" in html
