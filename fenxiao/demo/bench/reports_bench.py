"""Reports at volume: a year of aggregates worth 1,000,000 paid orders generated in SQL on
PostgreSQL (with the per-day-per-person rows the distinct counts read: one buyer-day per
order, three visitor-days per order), then the dashboard and each report timed for the
last 30 days.

The aggregate rows are generated directly (`INSERT … SELECT generate_series`), not rebuilt
from generated orders: what is timed is what the pages read, and the aggregates are what
they read. Everything runs in one transaction the caller rolls back.
"""

import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def generate(
    orders: int = 1_000_000, *, days: int = 365, products: int = 2000, distributors: int = 3000
) -> dict:
    from fenxiao.analytics import models as m

    start = time.perf_counter()
    first = timezone.localdate() - timedelta(days=days)
    per_day = orders // days
    t = {
        name: getattr(m, name)._meta.db_table
        for name in (
            "DailySales",
            "BuyerDay",
            "ProductDay",
            "CategoryDay",
            "DistributorDay",
            "CommissionDay",
            "DistributionDay",
            "TrafficDay",
            "VisitorDay",
        )
    }
    day = "(%s::date + d)"
    made = {}
    made["DailySales"] = _execute(
        f"""INSERT INTO {t["DailySales"]} (day, paid_orders, units, gmv, goods_amount, shipping,
            discount_flash, discount_group, discount_spend, discount_coupon, discount_free_shipping,
            discount_adjust, refund_count, refunds, distributor_orders, distributor_gmv)
        SELECT {day}, n, n * 2, n * 15000, n * 15500, n * 300, n * 100, n * 50, n * 200, n * 150, n * 30,
            n * 10, n / 20, n * 700, n * 6 / 10, n * 9000
        FROM generate_series(0, %s) AS d, LATERAL (SELECT %s + (d %% 7) * 50 AS n) AS x""",  # noqa: S608
        [first, days - 1, per_day],
    )
    made["BuyerDay"] = _execute(
        f"""INSERT INTO {t["BuyerDay"]} (day, buyer_id, placed_orders, paid_orders, paid_amount)
        SELECT %s::date + (g %% %s), (g::bigint * 7919) %% %s + 1, 1, 1, 15000
        FROM generate_series(1, %s) AS g ON CONFLICT DO NOTHING""",  # noqa: S608
        [first, days, max(orders // 3, 1), orders],
    )
    made["VisitorDay"] = _execute(
        f"""INSERT INTO {t["VisitorDay"]} (day, visitor, source, page_views, product_views, cart_adds,
            first_seen_at, last_seen_at)
        SELECT %s::date + (g %% %s), 'bench' || ((g::bigint * 104729) %% %s),
            (ARRAY['link','qr','poster','store','search','direct'])[g %% 6 + 1], 1 + g %% 9, g %% 4, g %% 2,
            now(), now()
        FROM generate_series(1, %s) AS g ON CONFLICT DO NOTHING""",  # noqa: S608
        [first, days, orders, orders * 3],
    )
    made["ProductDay"] = _execute(
        f"""INSERT INTO {t["ProductDay"]} (day, product_id, category_id, orders, units, sales, refunded_units,
            refunds)
        SELECT {day}, p, p %% 40 + 1, 1 + (d + p) %% 5, 2 + (d + p) %% 7, 15000 * (1 + (d + p) %% 5),
            (d + p) %% 2, 700 * ((d + p) %% 2)
        FROM generate_series(0, %s) AS d, generate_series(1, %s) AS p WHERE (d + p) %% 2 = 0""",  # noqa: S608
        [first, days - 1, products],
    )
    # Each category's orders of the day: about the orders of its products (category p % 40 + 1).
    made["CategoryDay"] = _execute(
        f"""INSERT INTO {t["CategoryDay"]} (day, category_id, orders)
        SELECT day, category_id, SUM(orders) FROM {t["ProductDay"]} GROUP BY day, category_id"""  # noqa: S608
    )
    made["DistributorDay"] = _execute(
        f"""INSERT INTO {t["DistributorDay"]} (day, distributor_id, orders, sales, commission_accrued,
            commission_settled, commission_clawed_back)
        SELECT {day}, k, 1 + (d + k) %% 3, 9000 * (1 + (d + k) %% 3), 900 * (1 + (d + k) %% 3), 800,
            (d + k) %% 50
        FROM generate_series(0, %s) AS d, generate_series(1, %s) AS k WHERE (d + k) %% 2 = 0""",  # noqa: S608
        [first, days - 1, distributors],
    )
    made["CommissionDay"] = _execute(
        f"""INSERT INTO {t["CommissionDay"]} (day, level, grade_name, accrued_count, accrued, reduced,
            settled, clawed_back, held_pending, held_frozen)
        SELECT {day}, lv, grade, 500, 450000, 20000, 400000, 5000, 30000, 20000
        FROM generate_series(0, %s) AS d, generate_series(1, 2) AS lv,
            unnest(ARRAY['', '普通', '银牌', '金牌']) AS grade""",  # noqa: S608
        [first, days - 1],
    )
    made["DistributionDay"] = _execute(
        f"""INSERT INTO {t["DistributionDay"]} (day, new_distributors, withdrawals_paid, withdrawn_amount,
            withdrawal_fees)
        SELECT {day}, 20 + d %% 9, 40, 400000, 2400 FROM generate_series(0, %s) AS d""",  # noqa: S608
        [first, days - 1],
    )
    made["TrafficDay"] = _execute(
        f"""INSERT INTO {t["TrafficDay"]} (day, source, distributor_id, visits, page_views, product_visits,
            cart_visits, order_visits, paid_visits)
        SELECT {day}, source, k, 40, 200, 20, 8, 5, 4
        FROM generate_series(0, %s) AS d,
            unnest(ARRAY['link','qr','poster','store','search','direct']) AS source,
            generate_series(0, %s) AS k
        WHERE k = 0 OR (source IN ('link', 'qr', 'poster') AND (d + k) %% 3 = 0)""",  # noqa: S608
        [first, days - 1, distributors // 5],
    )
    _execute("ANALYZE")
    return {"rows": made, "seconds": round(time.perf_counter() - start, 1)}


def time_pages(runs: int = 5) -> list[dict]:
    """The dashboard and each report for the last 30 days: median time and query count."""
    from fenxiao.analytics.services import dashboard, periods, reports

    period = periods.preset("30d")
    calls = [("dashboard 30d", lambda: dashboard.overview(period))]
    calls += [(f"report {key} 30d", lambda key=key: reports.build(key, period, {})) for key in reports.PAGES]
    calls += [
        (
            "report sales 365d by month",
            lambda: reports.build(
                "sales", periods.Period(period.end - timedelta(days=364), period.end, periods.MONTH), {}
            ),
        )
    ]
    out = []
    for label, call in calls:
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                call()
                timings.append((time.perf_counter() - start) * 1000)
        # The first run counts distinct buyers and visitors (the periodic refresh does it
        # ahead for the dashboard's presets); later runs read the kept counts.
        out.append(
            {
                "label": label,
                "cold_ms": round(timings[0], 1),
                "median_ms": round(statistics.median(timings[1:] or timings), 1),
                "queries": len(captured.captured_queries),
            }
        )
    return out


def time_rebuild(orders: int) -> dict:
    """`orders` paid, completed orders with a line, an attribution and a commission each
    (the settlement bench's generator: all paid on one day), then that day's aggregates
    rebuilt from them, timed: the cost of the set-based rebuild per order."""
    from fenxiao.analytics.services import aggregates

    from .settlement_bench import generate as generate_orders

    made = generate_orders(orders)
    day = timezone.localdate() - timedelta(days=61)
    start = time.perf_counter()
    aggregates.rebuild(day - timedelta(days=2), day + timedelta(days=2))
    seconds = time.perf_counter() - start
    from fenxiao.analytics.models import DailySales

    row = DailySales.objects.filter(day=day).values("paid_orders").first() or {"paid_orders": 0}
    return {
        "orders": orders,
        "generated_s": round(made["seconds"], 1),
        "rebuild_s": round(seconds, 1),
        "paid_orders_counted": row["paid_orders"],
    }
