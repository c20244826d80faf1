"""What the stores app answers to orders (registered on `orders.services.stores_port`)."""

from ..models import Store
from . import pickup, stock

pickup_stores = pickup.pickup_stores
pickup_store = pickup.pickup_store
take_stock = stock.take
restore_stock = stock.restore
restore_stock_in_order = stock.restore_in_order


def store_names() -> dict[int, str]:
    return dict(Store.objects.order_by("sort_order", "id").values_list("pk", "name"))
