"""The statements a settlement chunk runs (see `settlement`), in plain SQL: the ORM would
send every id of a chunk twice, which costs more than the rows themselves."""

from django.db import connection

from ..models import Commission, Distributor, DistributorTotals, LedgerEntry

# Claim and settle at once, returning each settled commission's id, distributor, net, and
# what its ledger note names.
# The window's bounds are repeated outside the claim so the planner reads the updated rows
# by primary key: with only the claim to go by it hashes the claim and scans the table.
SETTLE_SQL = """
UPDATE {commission} SET status = %s, settled_at = %s, batch_id = %s
WHERE id > %s AND id <= %s AND id IN ({claim})
RETURNING id, distributor_id, amount - reversed_amount AS net, order_id, level
"""
# The chunk's ledger entries where the chunk is not one statement (SQLite; PostgreSQL
# credits inside `CHUNK_SQL`), one insert: the unique source key leaves out any entry
# already written, and RETURNING gives back only the rows really inserted. The note reads
# "订单 <order id> <level>级佣金结算", as each entry always has. The chunk is the batch's
# settled commissions in its id range: any other there were settled (and credited) before.
# Only the id range may choose the index: `+ 0` keeps the planner off the batch index (and
# settled_at, set exactly when a commission settles, has none), whose statistics lag behind
# a run filling it, and which would make each chunk scan everything settled before it.
NOTE = "COALESCE('订单 ' || order_id, '门店收银') || ' ' || level || '级佣金结算'"
CREDIT_SQL = """
INSERT INTO {ledger} (distributor_id, kind, amount, source_key, commission_id, note, created_at)
SELECT distributor_id, %s, amount - reversed_amount, 'commission:' || id, id, {note}, %s
FROM {commission}
WHERE id > %s AND id <= %s AND batch_id + 0 = %s AND settled_at IS NOT NULL AND amount > reversed_amount
ON CONFLICT (source_key) DO NOTHING
RETURNING distributor_id, amount
"""


# On PostgreSQL the whole chunk is this one statement: the settle update above, the
# ledger entries of exactly the commissions it settled, and the running totals of their
# distributors, aggregated in the database (no row goes to Python and back). The totals
# rows are locked in ascending distributor order before any is updated, as `totals.add`
# does, so writers never wait crosswise. One row comes back: how many settled, their net
# and the last id; then, for each distributor without a totals row yet (left to
# `totals.add`), its deltas. Every join has a table's index on one side: the planner takes
# each CTE for a handful of rows, and would join two CTEs of thousands row by row.
CHUNK_SQL = """
WITH settling AS ({settle}),
credited AS (
    INSERT INTO {ledger} (distributor_id, kind, amount, source_key, commission_id, note, created_at)
    SELECT distributor_id, %s, net, 'commission:' || id, id, {note}, %s
    FROM settling WHERE net > 0
    ON CONFLICT (source_key) DO NOTHING
    RETURNING distributor_id, amount
),
moves AS (
    SELECT distributor_id, sum(frozen)::bigint AS frozen, sum(settled)::bigint AS settled,
           sum(balance)::bigint AS balance
    FROM (SELECT distributor_id, -net AS frozen, net AS settled, 0 AS balance FROM settling
          UNION ALL
          SELECT distributor_id, 0, 0, amount FROM credited) AS changes
    GROUP BY distributor_id
),
locked AS (
    SELECT t.distributor_id, m.frozen, m.settled, m.balance
    FROM {totals} AS t JOIN moves AS m ON m.distributor_id = t.distributor_id
    ORDER BY t.distributor_id FOR UPDATE OF t
),
updated AS (
    UPDATE {totals} AS t
    SET frozen = t.frozen + l.frozen, settled = t.settled + l.settled, balance = t.balance + l.balance
    FROM locked AS l
    WHERE t.distributor_id = l.distributor_id
)
SELECT chunk.n, chunk.net, chunk.last, m.distributor_id, m.frozen, m.settled, m.balance
FROM (SELECT count(*) AS n, coalesce(sum(net), 0)::bigint AS net, max(id) AS last FROM settling) AS chunk
LEFT JOIN moves AS m
       ON NOT EXISTS (SELECT 1 FROM {totals} AS t WHERE t.distributor_id = m.distributor_id)
"""


# What a run paid, by distributor, for its close (the batch's totals, the notices, the
# webhooks and the grade checks all come from this one read): each distributor's count and
# net, aggregated before the distributor is joined for its user, so the join is one row
# per distributor whatever the planner thinks of a batch it has not seen filled.
PAID_SQL = """
SELECT c.distributor_id, d.user_id, c.n, c.net
FROM (SELECT distributor_id, count(*) AS n, sum(amount - reversed_amount) AS net
      FROM {commission} WHERE batch_id = %s GROUP BY distributor_id) AS c
JOIN {distributor} AS d ON d.id = c.distributor_id
ORDER BY c.distributor_id
"""


def tables() -> dict[str, str]:
    """The quoted table names the statements are formatted with."""
    quote = connection.ops.quote_name
    return {
        "commission": quote(Commission._meta.db_table),
        "distributor": quote(Distributor._meta.db_table),
        "ledger": quote(LedgerEntry._meta.db_table),
        "totals": quote(DistributorTotals._meta.db_table),
    }
