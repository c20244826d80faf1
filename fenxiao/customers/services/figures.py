"""Per-customer figures (paid orders, spend, refunds, first and last payment, how they
came), one row per buyer in `CustomerFigures`, so the customer list, the tags and the
segments never aggregate the orders table on a page view.

Invariant: after every committed payment and refund, a buyer's row equals what
`rebuild` computes from their orders. The order hooks apply increments (one upsert,
row-locked by the database, so concurrent payments of one buyer add up instead of
overwriting each other); `rebuild` recomputes absolute values from the orders, chunk by
chunk of buyer ids, and is safe to run at any time (it is what the daily job runs too).

A "paid order" is an order that was paid (`paid_at` set), whatever happened to it later;
spend is what was paid minus what was refunded.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Subquery
from django.utils import timezone

from ..models import CustomerFigures, RegistrationSource, User

CHUNK = 2000
# The referral a buyer arrives with is claimed on the registration request itself; a
# touch this soon after the account was created is how they came.
REGISTRATION_WINDOW = timedelta(minutes=30)
_ARRIVALS = [s.value for s in RegistrationSource if s != RegistrationSource.DIRECT]
# Purchases beyond the orders that count like paid orders (a store's till sales), registered
# by the apps above that hold them: each is called with a chunk's (low, high) buyer ids inside
# the rebuild's transaction, after the orders, and adds its own increments.
_EXTRA_PURCHASES = []


def register_extra_purchases(add_range) -> None:
    if add_range not in _EXTRA_PURCHASES:
        _EXTRA_PURCHASES.append(add_range)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def order_paid(buyer_id: int, amount: int, paid_at) -> None:
    """Called inside the payment's transaction (order hooks)."""
    figures = _table(CustomerFigures)
    paid_at = connection.ops.adapt_datetimefield_value(paid_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {figures} (user_id, paid_orders, total_spend, refunded, first_paid_at,
                                   last_paid_at, source)
            VALUES (%s, 1, %s, 0, %s, %s, '')
            ON CONFLICT (user_id) DO UPDATE SET
                paid_orders = {figures}.paid_orders + 1,
                total_spend = {figures}.total_spend + EXCLUDED.total_spend,
                first_paid_at = CASE WHEN {figures}.first_paid_at IS NULL
                    OR {figures}.first_paid_at > EXCLUDED.first_paid_at
                    THEN EXCLUDED.first_paid_at ELSE {figures}.first_paid_at END,
                last_paid_at = CASE WHEN {figures}.last_paid_at IS NULL
                    OR {figures}.last_paid_at < EXCLUDED.last_paid_at
                    THEN EXCLUDED.last_paid_at ELSE {figures}.last_paid_at END
            """,  # noqa: S608 - quoted identifiers and placeholders only
            [buyer_id, amount, paid_at, paid_at],
        )


def refund_approved(buyer_id: int, amount: int) -> None:
    """Called inside the refund's transaction (order hooks): spend shrinks, refunds grow."""
    if amount <= 0:
        return
    figures = _table(CustomerFigures)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {figures} (user_id, paid_orders, total_spend, refunded, source)
            VALUES (%s, 0, %s, %s, '')
            ON CONFLICT (user_id) DO UPDATE SET
                total_spend = {figures}.total_spend - EXCLUDED.refunded,
                refunded = {figures}.refunded + EXCLUDED.refunded
            """,  # noqa: S608 - quoted identifiers and placeholders only
            [buyer_id, -amount, amount],
        )


def _buyer_ranges(chunk: int):
    """(low, high) id ranges of `chunk` buyers each, read as ids only."""
    ids = User.objects.filter(is_staff=False, is_superuser=False).order_by("pk").values_list("pk", flat=True)
    low = None
    count = 0
    last = None
    for pk in ids.iterator(chunk_size=chunk):
        if low is None:
            low = pk
        count += 1
        last = pk
        if count == chunk:
            yield low, last
            low, count = None, 0
    if low is not None:
        yield low, last


def rebuild(chunk: int = CHUNK) -> int:
    """Recompute every buyer's row from the orders, one transaction per chunk of buyers
    (two statements each: an upsert of every buyer in the range from their orders, and the
    registration sources still unknown). Returns the number of buyers covered."""
    covered = 0
    for low, high in _buyer_ranges(chunk):
        with transaction.atomic():
            _rebuild_range(low, high)
            for add_range in _EXTRA_PURCHASES:
                add_range(low, high)
            settle_sources(low, high)
        covered += 1
    return covered


def _rebuild_range(low: int, high: int) -> None:
    from fenxiao.orders.models import Order

    figures, users, orders = _table(CustomerFigures), _table(User), _table(Order)
    if connection.features.has_select_for_update:
        # Wait for payments and refunds in flight on these rows first: the recompute below
        # is a new statement, so (under READ COMMITTED) it then sees their orders, instead
        # of overwriting their increments with figures read before they committed.
        list(
            CustomerFigures.objects.select_for_update()
            .filter(user_id__gte=low, user_id__lte=high)
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {figures} (user_id, paid_orders, total_spend, refunded, first_paid_at,
                                   last_paid_at, source)
            SELECT u.id,
                   COUNT(o.id),
                   COALESCE(SUM(o.paid_amount - o.refunded_amount), 0),
                   COALESCE(SUM(o.refunded_amount), 0),
                   MIN(o.paid_at),
                   MAX(o.paid_at),
                   ''
            FROM {users} u
            LEFT JOIN {orders} o ON o.buyer_id = u.id AND o.paid_at IS NOT NULL
            WHERE u.id BETWEEN %s AND %s AND u.is_staff = %s AND u.is_superuser = %s
            GROUP BY u.id
            ON CONFLICT (user_id) DO UPDATE SET
                paid_orders = EXCLUDED.paid_orders,
                total_spend = EXCLUDED.total_spend,
                refunded = EXCLUDED.refunded,
                first_paid_at = EXCLUDED.first_paid_at,
                last_paid_at = EXCLUDED.last_paid_at
            """,  # noqa: S608 - quoted identifiers and placeholders only
            [low, high, False, False],
        )


def start_row(user, source: str) -> None:
    """A new buyer's row with the registration source known when the account was opened
    (a store's till enrolled them: 门店); the sweep's rows start blank instead."""
    CustomerFigures.objects.get_or_create(user=user, defaults={"source": source})


def add_new_buyers(now=None) -> int:
    """Give every buyer without a row one (zeros), and settle the registration sources
    that can be settled now: one statement each, for the frequent sweep."""
    figures, users = _table(CustomerFigures), _table(User)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {figures} (user_id, paid_orders, total_spend, refunded, source)
            SELECT u.id, 0, 0, 0, ''
            FROM {users} u
            WHERE u.is_staff = %s AND u.is_superuser = %s
              AND NOT EXISTS (SELECT 1 FROM {figures} f WHERE f.user_id = u.id)
            ON CONFLICT (user_id) DO NOTHING
            """,  # noqa: S608 - quoted identifiers and placeholders only
            [False, False],
        )
        added = cursor.rowcount
        settle_sources(now=now)
    return added


def settle_sources(low: int | None = None, high: int | None = None, *, now=None) -> None:
    """Registration source for rows that do not have one yet: the source and distributor of
    the buyer's first touch within REGISTRATION_WINDOW of registering; 自然注册 once the
    window has passed without one. Two set-based UPDATEs."""
    from fenxiao.distribution.models import Touch

    now = now or timezone.now()
    pending = CustomerFigures.objects.filter(source="")
    if low is not None:
        pending = pending.filter(user_id__gte=low, user_id__lte=high)
    first = Touch.objects.filter(
        buyer_id=OuterRef("user_id"),
        source__in=_ARRIVALS,
        created_at__gte=F("buyer__date_joined"),
        created_at__lte=ExpressionWrapper(
            F("buyer__date_joined") + REGISTRATION_WINDOW, output_field=DateTimeField()
        ),
    ).order_by("created_at", "id")
    pending.filter(Exists(first)).update(
        source=Subquery(first.values("source")[:1]),
        source_distributor_id=Subquery(first.values("distributor_id")[:1]),
    )
    pending.filter(user__date_joined__lt=now - REGISTRATION_WINDOW).update(source=RegistrationSource.DIRECT)


# --- The order hooks' entry points ------------------------------------------------------------


def record_paid_order(order) -> None:
    """A paid order: the buyer's figures now (same transaction), their automatic tags in a
    background task once the payment commits (derived data: a failure there never undoes a
    payment, and the daily recompute catches up)."""
    order_paid(order.buyer_id, order.paid_amount, order.paid_at)
    _retag_after_commit(order.buyer_id)


def record_refund(order, amount: int) -> None:
    """A refund: spend shrinks now, and 高消费 may no longer hold."""
    refund_approved(order.buyer_id, amount)
    _retag_after_commit(order.buyer_id)


def _retag_after_commit(buyer_id: int) -> None:
    # A task, not the payment request: the tags are derived data, and the daily recompute
    # catches up a task that was lost.
    from ..tasks import retag_customer

    transaction.on_commit(lambda: retag_customer(buyer_id))
