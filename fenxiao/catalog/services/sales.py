"""Sales counts (销量) shown on product cards: one statement per order, however many lines.

They are kept inside the payment / refund transaction on purpose: the count a buyer sees is
then exactly the paid quantity, with nothing to reconcile after a crash. The price is a row
lock on each product until that transaction commits, so two things matter:

- one statement, not one per product, so a 20-line order does not cost 20 round trips while
  holding the locks;
- a fixed lock order. PostgreSQL does not promise the order in which `UPDATE … WHERE id IN`
  locks rows (it follows whatever plan it picks), so two payments touching the same products
  in opposite orders could deadlock. A MATERIALIZED CTE `SELECT … ORDER BY id FOR UPDATE`
  takes the locks in id order first; the UPDATE then only touches rows it already holds.
  SQLite locks the whole database for a write, so it needs no lock order.

The hooks call these last, just before the payment transaction ends, to keep the time the
product rows stay locked short.
"""

from collections.abc import Mapping

from django.db import connection

from ..models import Product


def add_sales(quantities: Mapping[int, int]) -> None:
    """Paid: {product_id: quantity} goes onto each product's sales count."""
    _apply(quantities, "sales_count + {delta}", "")


def remove_sales(quantities: Mapping[int, int]) -> None:
    """Refunded: take the returned quantities off again; a count never goes below zero (a
    product whose count is already lower than the refund, e.g. reset by staff, is left alone)."""
    _apply(quantities, "sales_count - {delta}", " AND sales_count >= {delta}")


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
