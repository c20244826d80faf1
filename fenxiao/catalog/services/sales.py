"""Sales counts (销量) shown on product cards: one statement per order, however many lines,
run once the payment (or refund) has committed, never inside it.

Why after commit: a product row locked by a payment stays locked until that payment commits,
so with the count inside the transaction every payment of a popular product waits for the
one before it to finish all its work (commissions, running totals), and a payment and a
refund taking products and distributors' totals in opposite orders could deadlock. The
count is a display figure; the money never depends on it. So `add_sales`/`remove_sales`
register the statement with `transaction.on_commit`: it runs in autocommit right after the
commit, holding each product row for that one statement only, and is dropped if the
payment rolls back (so a refused payment never counts). The price: a process that dies in
the instant between the commit and the statement loses that order's count (`robust`: a
failing statement is logged, never turns a committed payment into an error).

Lock order inside the statement: PostgreSQL does not promise the order in which `UPDATE …
WHERE id IN` locks rows (it follows whatever plan it picks), so two statements over the same
products could still deadlock each other. A MATERIALIZED CTE `SELECT … ORDER BY id FOR
UPDATE` takes the locks in id order first; the UPDATE then only touches rows it already
holds. SQLite locks the whole database for a write, so it needs no lock order.
"""

from collections.abc import Mapping
from functools import partial

from django.db import connection, transaction

from ..models import Product


def add_sales(quantities: Mapping[int, int]) -> None:
    """Paid: {product_id: quantity} goes onto each product's sales count, once the current
    transaction commits."""
    _after_commit(quantities, "sales_count + {delta}", "")


def remove_sales(quantities: Mapping[int, int]) -> None:
    """Refunded: take the returned quantities off again once the refund commits; a count never
    goes below zero (a product whose count is already lower than the refund, e.g. reset by
    staff, is left alone)."""
    _after_commit(quantities, "sales_count - {delta}", " AND sales_count >= {delta}")


def _after_commit(quantities: Mapping[int, int], new_value: str, condition: str) -> None:
    if any(quantities.values()):
        transaction.on_commit(partial(_apply, dict(quantities), new_value, condition), robust=True)


def _apply(quantities: Mapping[int, int], new_value: str, condition: str) -> None:
    # Sorted, so the statement text (and the plan cache) is the same for the same products.
    items = sorted((int(pk), int(qty)) for pk, qty in quantities.items() if qty)
    if not items:
        return
    table = connection.ops.quote_name(Product._meta.db_table)
    ids = [pk for pk, _qty in items]
    marks = ", ".join(["%s"] * len(ids))
    delta_sql = "CASE id " + " ".join(["WHEN %s THEN %s"] * len(items)) + " END"
    delta_params = [value for item in items for value in item]
    set_sql = new_value.format(delta=delta_sql)
    where_sql = condition.format(delta=delta_sql)
    params = list(delta_params)
    if where_sql:
        params += delta_params
    if connection.vendor == "postgresql":
        sql = (
            "WITH locked AS MATERIALIZED ("  # noqa: S608 - quoted identifiers and placeholders only
            f"SELECT id FROM {table} WHERE id IN ({marks}) ORDER BY id FOR UPDATE) "
            f"UPDATE {table} SET sales_count = {set_sql} WHERE id IN (SELECT id FROM locked){where_sql}"
        )
        params = ids + params
    else:
        sql = f"UPDATE {table} SET sales_count = {set_sql} WHERE id IN ({marks}){where_sql}"  # noqa: S608
        params = params[: len(delta_params)] + ids + params[len(delta_params) :]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
