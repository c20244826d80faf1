"""Settlement at volume: frozen due commissions generated in SQL, settled by the public
`settle_due()`, then checked to have settled exactly once.

Generation is `INSERT … SELECT generate_series` on PostgreSQL, one statement per table:
completed orders (past their after-sale window) with one line, their attribution and one
level-1 commission each, spread over a pool of generated active distributors, whose running
totals show those orders and the commission frozen. Every column a statement does not set
takes its model default, so the rows satisfy the model's constraints as the ORM would write
them, and a column added later without a default fails loudly here instead of silently.
"""

import resource
import secrets
import time

from django.db import connection, transaction

DISTRIBUTOR_CODE_PREFIX = "BD"  # generated distributors' referral codes: BD0, BD1, …
ORDER_PREFIX = "BS"  # generated orders: BS<run tag><n>
SETTLEMENT_SKU = "BENCH-SETTLE"  # the one SKU every generated order line is of
RATE_BP = 1000


def insert_select(model, values: dict[str, str], source: str, *, on_conflict: str = "") -> int:
    """`INSERT INTO <model> (…) SELECT <values> FROM <source> [<on_conflict>]`: `values`
    maps column names to SQL expressions over `source`; every other column gets its model
    default."""
    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if column in values:
            expressions.append(values[column])
        elif field.primary_key:
            continue
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        elif field.has_default() or (field.empty_strings_allowed and not field.null):
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            continue
        else:
            raise ValueError(f"{model.__name__}.{column} has no default: the generator must set it")
        columns.append(connection.ops.quote_name(column))
    # Quoted identifiers and the bench's own expressions: no outside input reaches the SQL.
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {source} {on_conflict}"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def ensure_distributors(count: int) -> int:
    """Generated active distributors BD0 … BD<count-1> (made once, reused by later runs)."""
    from fenxiao.customers.models import User
    from fenxiao.distribution.models import Distributor, DistributorStatus, JoinSource

    have = Distributor.objects.filter(referral_code__startswith=DISTRIBUTOR_CODE_PREFIX).count()
    if have >= count:
        return have
    users = User._meta.db_table
    insert_select(
        User,
        {"username": "'bench_d' || g", "password": "'!'"},
        f"generate_series({have}, {count - 1}) AS g",
    )
    insert_select(
        Distributor,
        {
            "user_id": "u.id",
            "status": f"'{DistributorStatus.ACTIVE}'",
            "referral_code": f"'{DISTRIBUTOR_CODE_PREFIX}' || substr(u.username, 8)",
            "source": f"'{JoinSource.DESIGNATED}'",
            "activated_at": "now() - interval '90 days'",
        },
        f"{users} AS u WHERE u.username LIKE 'bench\\_d%%' AND substr(u.username, 8)::int >= {have}",
    )
    return count


def generate(count: int, *, distributors: int = 10_000) -> dict:
    """`count` frozen commissions due now, on `count` completed orders of one line each."""
    from fenxiao.catalog.models import Category, Product, Sku
    from fenxiao.customers.models import User
    from fenxiao.distribution.models import (
        Commission,
        CommissionStatus,
        Distributor,
        DistributorTotals,
        OrderAttribution,
        RuleKind,
        RuleSource,
    )
    from fenxiao.distribution.services import config
    from fenxiao.orders.models import Order, OrderLine, OrderStatus

    start = time.perf_counter()
    tag = ORDER_PREFIX + secrets.token_hex(3).upper()
    distributors = min(distributors, max(count // 10, 1))
    with transaction.atomic():
        ensure_distributors(distributors)
        # Made here, not with the test factories: their sequence restarts in every process.
        sku = Sku.objects.filter(code=SETTLEMENT_SKU).first()
        if sku is None:
            category, _ = Category.objects.get_or_create(name="压测结算", parent=None)
            product = Product.objects.create(name="压测结算商品", category=category, is_listed=False)
            sku = Sku.objects.create(product=product, code=SETTLEMENT_SKU, specs={}, price=10_000, stock=0)
        buyer = User(username=f"bench_{tag}")
        buyer.set_unusable_password()
        buyer.save()
        version = config.current().version
        price = "(1000 + g %% 9000)"  # 10.00 – 99.99 yuan
        insert_select(
            Order,
            {
                "number": f"'{tag}' || g",
                "buyer_id": str(buyer.pk),
                "status": f"'{OrderStatus.COMPLETED}'",
                "goods_amount": price,
                "total": price,
                "paid_amount": price,
                "recipient": "'压测'",
                "recipient_phone": "'13800138000'",
                "province": "'浙江省'",
                "city": "'杭州市'",
                "address_detail": "'压测路 1 号'",
                "pay_deadline": "now() - interval '61 days'",
                "paid_at": "now() - interval '61 days'",
                "shipped_at": "now() - interval '60 days'",
                "completed_at": "now() - interval '59 days'",
            },
            f"generate_series(1, {count}) AS g",
        )
        table = Order._meta.db_table
        orders = f"(SELECT id, substr(number, {len(tag) + 1})::int AS g FROM {table} WHERE number LIKE '{tag}%%') AS o"  # noqa: S608, E501
        insert_select(
            OrderLine,
            {
                "order_id": "o.id",
                "sku_id": str(sku.pk),
                "product_id": str(sku.product_id),
                "product_name": "'压测结算商品'",
                "sku_code": f"'{sku.code}'",
                "unit_price": price,
                "quantity": "1",
                "subtotal": price,
                "paid_amount": price,
            },
            orders,
        )
        table = Distributor._meta.db_table
        prefix = DISTRIBUTOR_CODE_PREFIX
        pool = (
            "(SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM "  # noqa: S608
            + table
            + f" WHERE referral_code LIKE '{prefix}%%' ORDER BY id LIMIT {distributors}) AS d"
        )
        insert_select(
            OrderAttribution,
            {"order_id": "o.id", "level1_id": "d.id", "settings_version": str(version), "reason": "'压测'"},
            f"{orders} JOIN {pool} ON d.k = o.g %% {distributors}",
        )
        commission_price = "l.paid_amount"
        insert_select(
            Commission,
            {
                "order_id": "o.id",
                "order_line_id": "l.id",
                "distributor_id": "a.level1_id",
                "level": "1",
                "status": f"'{CommissionStatus.FROZEN}'",
                "base": commission_price,
                "quantity": "1",
                "rule_kind": f"'{RuleKind.RATE}'",
                "rate_bp": str(RATE_BP),
                "rule_source": f"'{RuleSource.DEFAULT}'",
                "settings_version": str(version),
                "amount": f"{commission_price} * {RATE_BP} / 10000",
                "frozen_until": "now() - interval '1 day'",
            },
            f"{orders} JOIN {OrderLine._meta.db_table} AS l ON l.order_id = o.id "
            f"JOIN {OrderAttribution._meta.db_table} AS a ON a.order_id = o.id",
        )
        # The distributors' running totals, as the paid orders and their commissions moved
        # them in the shop: the orders and sales they brought, and the net amount now frozen.
        commissions = Commission._meta.db_table
        moved = (
            f"(SELECT c.distributor_id, count(*) AS orders, sum(o.paid_amount) AS sales, "  # noqa: S608
            f"sum(c.amount - c.reversed_amount) AS frozen FROM {commissions} AS c "
            f"JOIN {Order._meta.db_table} AS o ON o.id = c.order_id "
            f"WHERE o.number LIKE '{tag}%%' GROUP BY c.distributor_id) AS m"
        )
        fields = ("orders", "sales", "frozen")
        table = DistributorTotals._meta.db_table
        insert_select(
            DistributorTotals,
            {"distributor_id": "m.distributor_id", **{field: f"m.{field}" for field in fields}},
            moved,
            on_conflict="ON CONFLICT (distributor_id) DO UPDATE SET "
            + ", ".join(f"{field} = {table}.{field} + EXCLUDED.{field}" for field in fields),
        )
    # As autovacuum would have in the days these commissions were held: statistics, and the
    # visibility map and hint bits of the rows just written (VACUUM cannot run inside a
    # transaction, such as a test's: there, statistics only).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    return {
        "tag": tag,
        "commissions": count,
        "distributors": distributors,
        "seconds": time.perf_counter() - start,
    }


def settle() -> dict:
    """One `settle_due()` run, timed, with this process's peak memory."""
    from fenxiao.distribution.services.settlement import settle_due

    start = time.perf_counter()
    batch = settle_due()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "settled": batch.commission_count if batch else 0,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def check(tag: str) -> dict:
    """Every generated commission settled, each with exactly one ledger entry, and every
    distributor's commission ledger adds up to the net amount settled to them."""
    from django.db.models import Count, F, Sum

    from fenxiao.distribution.models import Commission, CommissionStatus, LedgerEntry, LedgerKind
    from fenxiao.distribution.services import totals

    generated = Commission.objects.filter(order__number__startswith=tag)
    not_settled = generated.exclude(status=CommissionStatus.SETTLED).count()
    entries = generated.annotate(n=Count("ledger_entries"))
    not_once = entries.exclude(n=1).count()
    settled_by = dict(
        Commission.objects.filter(status=CommissionStatus.SETTLED)
        .values_list("distributor_id")
        .annotate(net=Sum(F("amount") - F("reversed_amount")))
    )
    booked_by = dict(
        LedgerEntry.objects.filter(kind=LedgerKind.COMMISSION)
        .values_list("distributor_id")
        .annotate(total=Sum("amount"))
    )
    wrong = {pk for pk in set(settled_by) | set(booked_by) if settled_by.get(pk, 0) != booked_by.get(pk, 0)}
    # Each paid distributor's running totals (the dashboard's figures, the balance among
    # them) against what their history adds up to.
    off_totals = totals.mismatches(generated.order_by().values_list("distributor_id", flat=True).distinct())
    return {
        "generated": generated.count(),
        "not_settled": not_settled,
        "ledger_entries_not_exactly_one": not_once,
        "distributors_checked": len(settled_by),
        "distributors_ledger_mismatch": len(wrong),
        "distributors_totals_mismatch": len(off_totals),
    }
