"""A store's own stock: the same moves as the online stock (`catalog.services.stock`), on
`StoreStock` rows. One conditional UPDATE for any number of SKUs, never below zero whatever
the concurrency; rows are taken in id order so two checkouts never wait on each other."""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When

from fenxiao.catalog.errors import InvalidQuantity, StockInsufficient

from ..models import StoreStock


def _per_sku(quantities: Mapping[int, int]) -> Case:
    return Case(
        *[When(sku_id=sku_id, then=Value(qty)) for sku_id, qty in quantities.items()],
        output_field=IntegerField(),
    )


def take(store_id: int, quantities: Mapping[int, int]) -> None:
    """Take the store's stock of every SKU or of none (`stock = stock - q WHERE stock >= q`);
    raises StockInsufficient naming the short SKUs. Run inside checkout's transaction."""
    if not quantities:
        return
    if any(qty <= 0 for qty in quantities.values()):
        raise InvalidQuantity()
    with transaction.atomic():
        rows = StoreStock.objects.filter(store_id=store_id, sku_id__in=list(quantities))
        # Lock in pk order first: checkouts sharing SKUs queue instead of deadlocking.
        have = dict(rows.select_for_update().order_by("pk").values_list("sku_id", "stock"))
        updated = rows.filter(stock__gte=_per_sku(quantities)).update(stock=F("stock") - _per_sku(quantities))
        if updated != len(quantities):
            short = [pk for pk, qty in quantities.items() if have.get(pk, 0) < qty]
            raise StockInsufficient("门店库存不足", short_sku_ids=short or list(quantities))


def restore(store_id: int, quantities: Mapping[int, int]) -> None:
    """Put back what one order took. A row the merchant deleted meanwhile comes back."""
    quantities = {k: v for k, v in quantities.items() if v > 0}
    if not quantities:
        return
    restore_in_order({(store_id, sku_id): qty for sku_id, qty in quantities.items()})


def restore_in_order(quantities: Mapping[tuple[int, int], int]) -> None:
    """Put back the store stock of many orders at once {(store_id, sku_id): quantity}: rows
    locked in id order, then one UPDATE. Call inside the caller's transaction."""
    quantities = {k: v for k, v in quantities.items() if v > 0}
    if not quantities:
        return
    with transaction.atomic():
        StoreStock.objects.bulk_create(
            [StoreStock(store_id=store, sku_id=sku, stock=0) for store, sku in quantities],
            ignore_conflicts=True,
        )
        where = Q(pk__in=[])
        for store, sku in quantities:
            where |= Q(store_id=store, sku_id=sku)
        rows = StoreStock.objects.filter(where)
        list(rows.select_for_update().order_by("pk").values_list("pk"))
        amount = Case(
            *[When(store_id=store, sku_id=sku, then=Value(qty)) for (store, sku), qty in quantities.items()],
            output_field=IntegerField(),
        )
        rows.update(stock=F("stock") + amount)


def set_stock(store_id: int, levels: Mapping[int, int]) -> int:
    """Set the store's stock of these SKUs to absolute levels (backend bulk set, POS push).
    Returns how many rows were written."""
    if any(level is None or level < 0 for level in levels.values()):
        raise InvalidQuantity("库存不能为负数")
    with transaction.atomic():
        StoreStock.objects.bulk_create(
            [StoreStock(store_id=store_id, sku_id=sku, stock=level) for sku, level in levels.items()],
            update_conflicts=True,
            unique_fields=["store", "sku"],
            update_fields=["stock", "updated_at"],
        )
    return len(levels)


def stock_of(store_id: int, sku_ids) -> dict[int, int]:
    return dict(
        StoreStock.objects.filter(store_id=store_id, sku_id__in=list(sku_ids)).values_list("sku_id", "stock")
    )
