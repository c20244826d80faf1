"""Running totals: each distributor's dashboard figures, kept up to date by the services
that change them, in the same transaction.

The buckets (see `models.DistributorTotals`):
- `pending`, `frozen`, `settled`: net commission (amount − reversed) by status; a
  cancelled commission counts nowhere
- `balance`: the sum of the distributor's ledger entries (`ledger.balance()` stays the
  source of truth for withdrawals; the dashboard shows this copy)
- `withdrawn`: paid withdrawals
- `orders`, `sales`: level-1 paid orders, and their paid amount less refunds

Writers call `add` with signed deltas. Rows are updated in ascending distributor order so
two transactions touching the same distributors never wait on each other crosswise, and
each writer calls `add` once, at the end of its work, so a totals row is the last lock it
takes. `rebuild` recomputes rows from history (repair, and the tests' yardstick).
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum

from ..models import (
    TOTAL_FIELDS,
    Commission,
    CommissionStatus,
    Distributor,
    DistributorTotals,
    LedgerEntry,
    OfflineAttribution,
    Withdrawal,
    WithdrawalStatus,
)

# The bucket a commission's net amount sits in, by status (cancelled: none).
BUCKET = {
    CommissionStatus.PENDING: "pending",
    CommissionStatus.FROZEN: "frozen",
    CommissionStatus.SETTLED: "settled",
}
REBUILD_CHUNK = 1000
# Above this many distributors, `add` updates them together instead of one by one; rows
# per statement stay under SQLite's limit of bound parameters.
FEW = 4
MANY_PER_STATEMENT = 1000

Deltas = dict[int, dict[str, int]]


def deltas() -> Deltas:
    """An empty accumulator: deltas[distributor_id][field] += amount."""
    return defaultdict(lambda: defaultdict(int))


def merge(*parts: Deltas) -> Deltas:
    out = deltas()
    for part in parts:
        for pk, changes in part.items():
            for field, value in changes.items():
                out[pk][field] += value
    return out


def add(changes: Deltas) -> None:
    """Apply signed deltas, locking the rows in ascending distributor order. Zero deltas are
    skipped. A few distributors (a payment, a refund): one UPDATE each. Many (a settlement
    or auto-complete chunk): a fixed handful of statements whatever their number.

    A distributor without a row yet gets one (created, or found created by a concurrent
    writer) before it is updated."""
    changes = {
        pk: {field: value for field, value in fields.items() if value} for pk, fields in changes.items()
    }
    changes = {pk: fields for pk, fields in changes.items() if fields}
    unknown = {field for fields in changes.values() for field in fields} - set(TOTAL_FIELDS)
    if unknown:
        raise ValueError(f"unknown totals field(s): {sorted(unknown)}")
    if len(changes) > FEW:
        _add_many(changes)
        return
    for pk in sorted(changes):
        update = {field: F(field) + value for field, value in changes[pk].items()}
        if DistributorTotals.objects.filter(pk=pk).update(**update):
            continue
        DistributorTotals.objects.bulk_create([DistributorTotals(distributor_id=pk)], ignore_conflicts=True)
        DistributorTotals.objects.filter(pk=pk).update(**update)


# Quoted names and placeholders only are formatted in; every value is a bound parameter.
_ADD_MANY_SQL = """
UPDATE {table} SET {assignments}
FROM (VALUES {rows}) AS v
WHERE {table}.distributor_id = v.column1
"""


def _add_many(changes: Deltas) -> None:
    """`add` for many distributors: lock their rows in one ordered statement (creating the
    missing ones), then add every delta with one joined UPDATE per `MANY_PER_STATEMENT`."""
    ids = sorted(changes)
    locked = DistributorTotals.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    missing = set(ids) - set(locked.values_list("pk", flat=True))
    if missing:
        DistributorTotals.objects.bulk_create(
            [DistributorTotals(distributor_id=pk) for pk in sorted(missing)], ignore_conflicts=True
        )
        list(locked.filter(pk__in=missing).values_list("pk", flat=True))
    fields = [f for f in TOTAL_FIELDS if any(f in row for row in changes.values())]
    quote = connection.ops.quote_name
    table = quote(DistributorTotals._meta.db_table)
    # VALUES columns are named column1, column2 … on both SQLite and PostgreSQL.
    assignments = ", ".join(f"{quote(f)} = {quote(f)} + v.column{i}" for i, f in enumerate(fields, start=2))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), MANY_PER_STATEMENT):
            part = ids[start : start + MANY_PER_STATEMENT]
            rows = ", ".join(["(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"] * len(part))
            params = [value for pk in part for value in (pk, *(changes[pk].get(f, 0) for f in fields))]
            sql = _ADD_MANY_SQL.format(table=table, assignments=assignments, rows=rows)
            cursor.execute(sql, params)


def net_by_distributor(commissions) -> dict[int, int]:
    """{distributor_id: net amount} of a commission queryset, in one grouped query."""
    rows = (
        commissions.order_by()
        .values("distributor_id")
        .annotate(net=Sum(F("amount") - F("reversed_amount")))
        .values_list("distributor_id", "net")
    )
    return {pk: net or 0 for pk, net in rows}


def commission_moves(commissions, source: str, target: str, *, credit_balance: bool = False) -> Deltas:
    """Deltas for moving `commissions` (a queryset, read BEFORE the status update, its rows
    locked or otherwise kept still by the caller) from status `source` to `target`:
    one grouped query. `credit_balance` also adds the net to the balance, for settlement,
    whose ledger entries credit exactly the net amount.

    Bulk callers wire themselves in one line, e.g. a settlement chunk:
        totals.add(totals.commission_moves(chunk, FROZEN, SETTLED, credit_balance=True))
    """
    out = deltas()
    for pk, net in net_by_distributor(commissions).items():
        if source in BUCKET:
            out[pk][BUCKET[source]] -= net
        if target in BUCKET:
            out[pk][BUCKET[target]] += net
        if credit_balance:
            out[pk]["balance"] += net
    return out


def commission_created(out: Deltas, commission: Commission) -> None:
    """A new commission's net counts in its status's bucket (pending at payment)."""
    if commission.status in BUCKET:
        out[commission.distributor_id][BUCKET[commission.status]] += commission.net_amount


def order_paid(out: Deltas, level1_id: int | None, paid_amount: int) -> None:
    """A paid order counts for its level-1 distributor's orders and sales."""
    if level1_id:
        out[level1_id]["orders"] += 1
        out[level1_id]["sales"] += paid_amount


def order_refunded(order_id: int, amount: int) -> None:
    """Money of a paid order was refunded (the order's refunded amount grew by `amount`):
    its level-1 distributor's sales shrink by as much."""
    from ..models import OrderAttribution

    if not amount:
        return
    level1_id = OrderAttribution.objects.filter(order_id=order_id).values_list("level1_id", flat=True).first()
    if level1_id:
        add({level1_id: {"sales": -amount}})


# --- from history ---------------------------------------------------------------------------


def computed(distributor_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """The totals of these distributors recomputed from history: five grouped queries."""
    from fenxiao.orders.models import Order

    ids = list(distributor_ids)
    result = {pk: dict.fromkeys(TOTAL_FIELDS, 0) for pk in ids}
    if not ids:
        return result
    net = F("amount") - F("reversed_amount")
    for row in (
        Commission.objects.filter(distributor_id__in=ids)
        .order_by()
        .values("distributor_id")
        .annotate(
            pending=Sum(net, filter=Q(status=CommissionStatus.PENDING)),
            frozen=Sum(net, filter=Q(status=CommissionStatus.FROZEN)),
            settled=Sum(net, filter=Q(status=CommissionStatus.SETTLED)),
        )
    ):
        result[row["distributor_id"]].update(
            pending=row["pending"] or 0, frozen=row["frozen"] or 0, settled=row["settled"] or 0
        )
    for pk, total in (
        LedgerEntry.objects.filter(distributor_id__in=ids)
        .order_by()
        .values("distributor_id")
        .annotate(total=Sum("amount"))
        .values_list("distributor_id", "total")
    ):
        result[pk]["balance"] = total or 0
    for pk, total in (
        Withdrawal.objects.filter(distributor_id__in=ids, status=WithdrawalStatus.PAID)
        .order_by()
        .values("distributor_id")
        .annotate(total=Sum("amount"))
        .values_list("distributor_id", "total")
    ):
        result[pk]["withdrawn"] = total or 0
    for row in (
        Order.objects.filter(attribution__level1_id__in=ids, paid_at__isnull=False)
        .order_by()
        .values("attribution__level1_id")
        .annotate(n=Count("pk"), paid=Sum("paid_amount"), refunded=Sum("refunded_amount"))
    ):
        result[row["attribution__level1_id"]].update(
            orders=row["n"] or 0, sales=(row["paid"] or 0) - (row["refunded"] or 0)
        )
    # Sales at a store's till count like paid orders, less what the till's returns gave back.
    for row in (
        OfflineAttribution.objects.filter(level1_id__in=ids)
        .order_by()
        .values("level1_id")
        .annotate(n=Count("pk"), total=Sum("total"), refunded=Sum("refunded"))
    ):
        result[row["level1_id"]]["orders"] += row["n"] or 0
        result[row["level1_id"]]["sales"] += (row["total"] or 0) - (row["refunded"] or 0)
    return result


def stored(distributor_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """The running totals as stored (zeros for a distributor without a row yet)."""
    ids = list(distributor_ids)
    result = {pk: dict.fromkeys(TOTAL_FIELDS, 0) for pk in ids}
    for row in DistributorTotals.objects.filter(pk__in=ids):
        result[row.pk] = row.as_dict()
    return result


def rebuild(distributor_ids: Iterable[int] | None = None, *, chunk: int = REBUILD_CHUNK) -> int:
    """Recompute the rows of these distributors (all when None) from history, a chunk of
    distributors per transaction. Returns how many rows were written.

    Safe while the shop runs: each chunk first locks its totals rows, so a writer that
    changed history but has not added its delta yet waits and then adds it on top of the
    rebuilt value, and one that already added it has committed before the history is read.
    """
    if distributor_ids is None:
        ids = list(Distributor.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(distributor_ids))
    written = 0
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with transaction.atomic():
            DistributorTotals.objects.bulk_create(
                [DistributorTotals(distributor_id=pk) for pk in part], ignore_conflicts=True
            )
            list(
                DistributorTotals.objects.select_for_update().filter(pk__in=part).order_by("pk").values("pk")
            )
            values = computed(part)
            rows = [DistributorTotals(distributor_id=pk, **values[pk]) for pk in part]
            DistributorTotals.objects.bulk_update(rows, list(TOTAL_FIELDS))
            written += len(rows)
    return written


def mismatches(distributor_ids: Iterable[int] | None = None) -> dict[int, dict[str, tuple[int, int]]]:
    """{distributor_id: {field: (stored, from history)}} wherever the two differ."""
    if distributor_ids is None:
        distributor_ids = Distributor.objects.values_list("pk", flat=True)
    ids = list(distributor_ids)
    have, want = stored(ids), computed(ids)
    out = {}
    for pk in ids:
        diff = {f: (have[pk][f], want[pk][f]) for f in TOTAL_FIELDS if have[pk][f] != want[pk][f]}
        if diff:
            out[pk] = diff
    return out
