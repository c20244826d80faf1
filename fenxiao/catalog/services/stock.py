"""Stock moves. One conditional UPDATE for any number of SKUs: never below zero, whatever the
concurrency, and the same number of queries for one line or twenty."""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When

from ..errors import InvalidQuantity, StockInsufficient
from ..models import Sku


def _per_sku(quantities: Mapping[int, int]) -> Case:
    return Case(
        *[When(pk=sku_id, then=Value(qty)) for sku_id, qty in quantities.items()],
        output_field=IntegerField(),
    )


def take_stock(quantities: Mapping[int, int], *, savepoint: bool = True) -> None:
    """Decrement stock for every SKU or for none; raises StockInsufficient naming the short SKUs.

    A short SKU is found after the UPDATE has lowered the others, so they are rolled back
    with it: by a savepoint of its own, or, with `savepoint=False`, by the caller's
    transaction, for a caller that lets the error leave its `atomic` block (checkout), which
    saves two round trips on every order.
    """
    if not quantities:
        return
    if any(qty <= 0 for qty in quantities.values()):
        raise InvalidQuantity()
    with transaction.atomic(savepoint=savepoint):
        updated = Sku.objects.filter(pk__in=list(quantities), stock__gte=_per_sku(quantities)).update(
            stock=F("stock") - _per_sku(quantities)
        )
        if updated != len(quantities):
            # Roll back the rows that did go down, then say which SKUs were short.
            short = [
                sku.pk
                for sku in Sku.objects.filter(pk__in=list(quantities)).only("pk", "stock")
                if sku.stock < quantities[sku.pk]
            ]
            raise StockInsufficient(short_sku_ids=short or list(quantities))


def restore_stock(quantities: Mapping[int, int]) -> None:
    quantities = {k: v for k, v in quantities.items() if v > 0}
    if quantities:
        Sku.objects.filter(pk__in=list(quantities)).update(stock=F("stock") + _per_sku(quantities))


def restore_stock_in_order(quantities: Mapping[int, int]) -> None:
    """Put back the stock of many orders at once (a sweep's whole chunk), one row per SKU.

    The SKU rows are locked in id order before the one UPDATE: two sweeps (or a sweep and a
    buyer's cancel) restoring overlapping SKUs then queue on the lowest id instead of each
    holding a row the other waits for. Call inside the caller's transaction."""
    quantities = {k: v for k, v in quantities.items() if v > 0}
    if not quantities:
        return
    list(Sku.objects.select_for_update().filter(pk__in=list(quantities)).order_by("pk").values_list("pk"))
    Sku.objects.filter(pk__in=list(quantities)).update(stock=F("stock") + _per_sku(quantities))
