"""A store's own stock: the same moves as the online stock (`catalog.services.stock`), on
`StoreStock` rows. One conditional UPDATE for any number of SKUs, never below zero whatever
the concurrency; rows are taken in id order so two checkouts never wait on each other."""

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.catalog.errors import InvalidQuantity, StockInsufficient
from fenxiao.core.errors import DomainError

from ..models import StoreStock

MAX_LEVEL = 10_000_000  # a store's level of one SKU, as the POS API and the backend take it


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
            raise StockInsufficient(_("门店库存不足"), short_sku_ids=short or list(quantities))


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
            [StoreStock(store_id=store, sku_id=sku, stock=0) for store, sku in sorted(quantities)],
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


def lock_rows(store_id: int, sku_ids: Iterable[int], *, create: Iterable[int] = ()) -> dict[int, int]:
    """Lock the store's rows of these SKUs in id order, as checkout takes them, and return
    their levels {sku_id: stock}; the SKUs of `create` first get a row at 0 where they have
    none. A writer that locks every row it will write here first never waits crosswise with
    a checkout. Call inside the writer's transaction."""
    sku_ids, create = sorted(set(sku_ids) | set(create)), sorted(set(create))
    for _attempt in range(3):
        if create:
            StoreStock.objects.bulk_create(
                [StoreStock(store_id=store_id, sku_id=sku, stock=0) for sku in create], ignore_conflicts=True
            )
        rows = StoreStock.objects.filter(store_id=store_id, sku_id__in=sku_ids).select_for_update()
        levels = dict(rows.order_by("pk").values_list("sku_id", "stock"))
        if all(sku in levels for sku in create):
            return levels
    # A row deleted between its insert and the lock, three times over.
    raise DomainError(_("门店库存正在被修改，请稍后重试"), code="STORE_STOCK_BUSY", status=409)


def _check_levels(levels: Mapping[int, int]) -> None:
    if any(level is None or level < 0 for level in levels.values()):
        raise InvalidQuantity(_("库存不能为负数"))
    if any(level > MAX_LEVEL for level in levels.values()):
        raise InvalidQuantity(_("库存不能超过 %(max)s") % {"max": f"{MAX_LEVEL:,}"})


def set_stock(store_id: int, levels: Mapping[int, int]) -> int:
    """Set the store's stock of these SKUs to absolute levels (backend bulk set, POS push).
    Returns how many rows were written."""
    _check_levels(levels)
    with transaction.atomic():
        lock_rows(store_id, levels)
        StoreStock.objects.bulk_create(
            [StoreStock(store_id=store_id, sku_id=sku, stock=level) for sku, level in sorted(levels.items())],
            update_conflicts=True,
            unique_fields=["store", "sku"],
            update_fields=["stock", "updated_at"],
        )
    return len(levels)


def set_stock_if_unchanged(
    store_id: int, levels: Mapping[int, int], shown: Mapping[int, int | None]
) -> list[int]:
    """Set absolute levels as `set_stock` does, but only where the level is still the one
    `shown` (None: no row) when the merchant typed theirs: a pickup order that took or gave
    back units meanwhile would otherwise be overwritten (its units sold twice, or lost).
    Returns the SKUs left as they are; the rest are written, all in one transaction."""
    _check_levels(levels)
    with transaction.atomic():
        now = lock_rows(store_id, levels)
        moved = [sku for sku in levels if now.get(sku) != shown.get(sku)]
        kept = {sku: level for sku, level in levels.items() if sku not in moved}
        rows = StoreStock.objects.filter(store_id=store_id)
        there = {sku: level for sku, level in kept.items() if sku in now}
        if there:
            rows.filter(sku_id__in=list(there)).update(stock=_per_sku(there), updated_at=timezone.now())
        # A row that was not there is only inserted: one a cancelled pickup put back in the
        # meantime stays, and its SKU is reported as moved.
        new = {sku: level for sku, level in kept.items() if sku not in now}
        if new:
            StoreStock.objects.bulk_create(
                [
                    StoreStock(store_id=store_id, sku_id=sku, stock=level)
                    for sku, level in sorted(new.items())
                ],
                ignore_conflicts=True,
            )
            written = dict(rows.filter(sku_id__in=list(new)).values_list("sku_id", "stock"))
            moved += [sku for sku, level in new.items() if written.get(sku) != level]
    return moved


def adjust(store_id: int, changes: Mapping[int, int]) -> dict[int, tuple[int, int]]:
    """Add signed `changes` to the store's stock of these SKUs (what a till sold or received
    since its last push), never below zero, in one UPDATE on rows locked in id order: online
    pickups that took units meanwhile stay taken, as an absolute level would not leave them.
    Returns {sku_id: (level now, short)}, `short` being what a decrease could not take (units
    the store had already promised to online pickups). Only a receipt gives a SKU the store
    does not stock a row."""
    if not changes:
        return {}
    with transaction.atomic():
        had = lock_rows(store_id, changes, create=[sku for sku, change in changes.items() if change > 0])
        present = {sku: change for sku, change in changes.items() if sku in had and change}
        if present:
            StoreStock.objects.filter(store_id=store_id, sku_id__in=list(present)).update(
                stock=Greatest(F("stock") + _per_sku(present), Value(0)), updated_at=timezone.now()
            )
    after = {sku: had.get(sku, 0) + change for sku, change in changes.items()}
    return {sku: (max(level, 0), max(-level, 0)) for sku, level in after.items()}


def stock_of(store_id: int, sku_ids) -> dict[int, int]:
    return dict(
        StoreStock.objects.filter(store_id=store_id, sku_id__in=list(sku_ids)).values_list("sku_id", "stock")
    )
