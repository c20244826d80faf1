"""Trigram indexes for the order list's search by words (admin/order_list.word_search), on
PostgreSQL only, outside the model state: GIN `gin_trgm_ops` on the exact expression
Django's `icontains` compares there (`UPPER("col"::text)`), and on the recipient's phone
for `contains`.

They need the pg_trgm extension. `CREATE EXTENSION IF NOT EXISTS pg_trgm` is tried (a
trusted extension since PostgreSQL 13: the database's owner may create it); when the
role may not, the indexes are left out with a warning, and the deploy goes on: they only
speed the search up, which finds the same orders without them. The system check
fenxiao.W020 (orders/checks.py) says so until they exist; once a superuser has created the
extension, `create_indexes()` below builds them (the check's hint says how). On SQLite:
nothing.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

# (name, table, indexed expression)
INDEXES = (
    ("order_recipient_trgm", "orders_order", 'UPPER("recipient"::text) gin_trgm_ops'),
    ("order_merchant_note_trgm", "orders_order", 'UPPER("merchant_note"::text) gin_trgm_ops'),
    ("order_recipient_phone_trgm", "orders_order", '("recipient_phone"::text) gin_trgm_ops'),
    ("orderline_product_name_trgm", "orders_orderline", 'UPPER("product_name"::text) gin_trgm_ops'),
)
INDEX_NAMES = tuple(name for name, _table, _expression in INDEXES)


def create(apps, schema_editor):
    create_indexes(schema_editor.connection)


def create_indexes(connection=None) -> bool:
    """Create pg_trgm (when the role may) and the indexes; False when it may not. Also run
    by hand once a superuser has created the extension (see system check fenxiao.W020)."""
    if connection is None:
        from django.db import connection
    if connection.vendor != "postgresql":
        return False
    try:
        # A savepoint: a refused CREATE EXTENSION must not abort the migration's transaction.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        logger.warning(
            "pg_trgm could not be created (%s): the order search's trigram indexes are left "
            "out; it finds the same orders, more slowly. See system check fenxiao.W020.",
            str(error).strip(),
        )
        return False
    with connection.cursor() as cursor:
        for name, table, expression in INDEXES:
            cursor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression})')
    return True


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEX_NAMES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("orders", "0018_search_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
