"""门店报表 in the reports section: per store and per 导购, with export, fixed queries."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from fenxiao.analytics.services import periods, report_stores
from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.stores.models import BindTarget, OfflineSale, Store
from fenxiao.testing import login, make_buyer, make_product, make_staff

from .helpers import guide, make_store, scan, store_settings

pytestmark = pytest.mark.django_db


def setup_shop():
    store_settings(bind_target=BindTarget.STAFF)
    product = make_product("礼盒", price=8888)
    a = make_store("南山店", manager=make_buyer())
    b = make_store("北山店", manager=make_buyer())
    ga, gb = guide(a), guide(b)
    for staff, store, count in ((ga, a, 2), (gb, b, 1)):
        for _ in range(count):
            buyer = make_buyer()
            scan(buyer, store, staff)
            buy(buyer, (sku(product), 1))
    walk_in = make_buyer()
    scan(walk_in, a)  # the store's own QR: bound to the store account
    store_settings(bind_target=BindTarget.STORE)
    scan(walk_in, a)
    buy(walk_in, (sku(product), 2))
    return a, b, ga, gb


def today():
    return periods.Period(date.today(), date.today())


def test_store_report_figures_per_store_and_per_guide(django_assert_max_num_queries):
    a, b, ga, gb = setup_shop()
    with django_assert_max_num_queries(12):
        overview, guides = report_stores.build(today(), {"limit": 20})
    rows = {r["store"]: r for r in overview.table.rows}
    assert rows["南山店"] == {
        "store": "南山店",
        "url": f"/backend/stores/store/{a.pk}/change/",
        "members": 3,
        "new_members": 3,
        "orders": 3,
        "sales": 8888 * 4,
        "till_sales": 0,
        "till_amount": 0,
    }
    assert rows["北山店"] == {
        "store": "北山店",
        "url": f"/backend/stores/store/{b.pk}/change/",
        "members": 1,
        "new_members": 1,
        "orders": 1,
        "sales": 8888,
        "till_sales": 0,
        "till_amount": 0,
    }
    assert overview.table.totals["sales"] == 8888 * 5
    by_guide = {r["guide"]: r for r in guides.table.rows}
    assert by_guide[ga.user.display_name]["orders"] == 2
    assert by_guide[ga.user.display_name]["sales"] == 17776
    assert by_guide[ga.user.display_name]["commission"] == 888 * 2  # 10% of ¥88.88, floored
    assert by_guide[gb.user.display_name]["members"] == 1


def test_store_report_query_count_does_not_grow(django_assert_max_num_queries):
    setup_shop()
    product = make_product("更多", price=100)
    for n in range(3):
        store = make_store(f"新店{n}", manager=make_buyer())
        for _ in range(2):
            staff = guide(store)
            buyer = make_buyer()
            scan(buyer, store, staff)
            buy(buyer, (sku(product), 1))
    for n, store in enumerate(Store.objects.all()):
        till_sale(store, f"S{n}", 1000)
    with django_assert_max_num_queries(12):
        overview, _ = report_stores.build(today(), {"limit": 20})
    assert {r["store"]: r["orders"] for r in overview.table.rows}["新店2"] == 2


def till_sale(store, sale_no, total, *, refunded=0, sold_at=None):
    return OfflineSale.objects.create(
        store=store,
        sale_no=sale_no,
        total=total,
        refunded_amount=refunded,
        sold_at=sold_at or timezone.now(),
    )


def test_till_sales_count_for_their_store_net_of_returns_within_the_period():
    a, b, _ga, _gb = setup_shop()
    till_sale(a, "S1", 5000, refunded=1200)
    till_sale(a, "S2", 3000)
    till_sale(b, "S1", 2000, refunded=2000)  # returned in full: a sale, of nothing
    till_sale(b, "S0", 9900, sold_at=timezone.now() - timedelta(days=3))  # before the period
    overview, _ = report_stores.build(today(), {"limit": 20})
    rows = {r["store"]: r for r in overview.table.rows}
    assert (rows["南山店"]["till_sales"], rows["南山店"]["till_amount"]) == (2, 6800)
    assert (rows["北山店"]["till_sales"], rows["北山店"]["till_amount"]) == (1, 0)
    assert rows["南山店"]["sales"] == 8888 * 4  # online sales apart
    assert (overview.table.totals["till_sales"], overview.table.totals["till_amount"]) == (3, 6800)
    assert {m.key: m.value for m in overview.metrics}["till_amount"] == 6800


def test_store_report_cards_compare_with_the_period_before_but_members_stand_alone():
    a, _b, _ga, _gb = setup_shop()
    till_sale(a, "S1", 5000)
    till_sale(a, "S0", 700, sold_at=timezone.now() - timedelta(days=1))  # the period before
    overview, _ = report_stores.build(today(), {"limit": 20})
    cards = {m.key: (m.value, m.previous) for m in overview.metrics}
    assert cards["till_amount"] == (5000, 700)
    assert cards["orders"] == (4, 0) and cards["new_members"] == (4, 0)
    assert cards["members"] == (4, None)  # as it stands today: nothing to compare with
    boss = login(make_staff("boss", superuser=True))
    html = boss.get("/backend/data/stores/?range=today").content.decode()
    assert html.count("当前数，不对比上期") == 1 and "上期 ¥7.00" in html


def test_store_report_page_and_export(client):
    setup_shop()
    boss = login(make_staff("boss", superuser=True))
    page = boss.get("/backend/data/stores/?range=7d")
    html = page.content.decode()
    assert page.status_code == 200 and "门店报表" in html and "南山店" in html and "导购业绩" in html
    export = boss.get("/backend/data/stores/export/csv/?range=7d&report=stores-overview")
    assert export.status_code == 200
    body = b"".join(export.streaming_content) if export.streaming else export.content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["门店", "会员数", "新增会员"]
    assert any(r[0] == "南山店" for r in rows)
    assert not any("/backend/" in cell for r in rows for cell in r)  # the links stay on the page


def test_store_report_names_open_the_store_and_the_staff_member():
    """A store's row opens its page (门店码, 会员, 销售 a click on), a staff member's row theirs."""
    a, _b, ga, _gb = setup_shop()
    html = login(make_staff("boss", superuser=True)).get("/backend/data/stores/?range=today").content.decode()
    assert (
        f'<a href="/backend/stores/store/{a.pk}/change/" class="text-primary-600 hover:underline">南山店</a>'
        in html
    )
    link = f'<a href="/backend/stores/storestaff/{ga.pk}/change/" class="text-primary-600 hover:underline">'
    assert link + f"{ga.user.display_name}</a>" in html
