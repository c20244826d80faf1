"""Where checkout and the order lifecycle meet offline stores: the only way `orders` reaches
`fenxiao.stores`, which sits above it (as promotions do, see `promotions_port`).

The stores app registers what answers at startup (`StoresConfig.ready`). Without it there
are no stores: pickup is refused and every order takes the online stock.

An order keeps its pickup store by id (`Order.pickup_store_id`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ..errors import PickupUnavailable


@dataclass(frozen=True)
class PickupStore:
    """A store as checkout shows it and an order copies it."""

    id: int
    name: str
    province: str
    city: str
    district: str
    address_detail: str
    hours: str = ""
    phone: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    distance_m: int | None = None  # from the buyer, when the browser shared a location

    @property
    def address_text(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address_detail}"

    @property
    def distance_text(self) -> str:
        if self.distance_m is None:
            return ""
        if self.distance_m < 1000:
            return f"{self.distance_m}m"
        return f"{self.distance_m / 1000:.1f}km"


class StoresPort(Protocol):
    def pickup_stores(self, quantities: Mapping[int, int], *, lat=None, lng=None) -> list[PickupStore]:
        """Open, pickup-enabled stores that hold every SKU in its quantity; nearest first when
        a location is given, else in the merchant's order."""

    def pickup_store(self, store_id: int, quantities: Mapping[int, int]) -> PickupStore:
        """That store if it can serve these quantities now; raises PickupUnavailable."""

    def take_stock(self, store_id: int, quantities: Mapping[int, int]) -> None:
        """Inside checkout's transaction: take the store's stock of every SKU or none;
        raises StockInsufficient."""

    def store_names(self) -> dict[int, str]:
        """{store id: name} of every store, in the merchant's order: what a pickup order's
        `pickup_store_id` is called on the order backend."""

    def restore_stock(self, store_id: int, quantities: Mapping[int, int]) -> None:
        """Put back what one order took (cancel, refund with restock)."""

    def restore_stock_in_order(self, quantities: Mapping[tuple[int, int], int]) -> None:
        """Put back what a sweep's chunk took, {(store_id, sku_id): quantity}, rows locked in
        id order within the caller's transaction."""


class _NoStores:
    def pickup_stores(self, quantities, *, lat=None, lng=None):
        return []

    def pickup_store(self, store_id, quantities):
        raise PickupUnavailable()

    def take_stock(self, store_id, quantities):
        raise PickupUnavailable()

    def restore_stock(self, store_id, quantities):
        return None

    def restore_stock_in_order(self, quantities):
        return None

    def store_names(self):
        return {}


_port: StoresPort = _NoStores()


def register(port: StoresPort) -> None:
    """Called once at startup by the stores app."""
    global _port
    _port = port


def pickup_stores(quantities: Mapping[int, int], *, lat=None, lng=None) -> list[PickupStore]:
    return _port.pickup_stores(dict(quantities), lat=lat, lng=lng)


def pickup_store(store_id: int, quantities: Mapping[int, int]) -> PickupStore:
    return _port.pickup_store(store_id, dict(quantities))


def take_stock(store_id: int, quantities: Mapping[int, int]) -> None:
    _port.take_stock(store_id, dict(quantities))


def restore_stock(store_id: int, quantities: Mapping[int, int]) -> None:
    _port.restore_stock(store_id, {k: v for k, v in quantities.items() if v > 0})


def restore_stock_in_order(quantities: Mapping[tuple[int, int], int]) -> None:
    quantities = {k: v for k, v in quantities.items() if v > 0}
    if quantities:
        _port.restore_stock_in_order(quantities)


def store_names() -> dict[int, str]:
    return _port.store_names()
