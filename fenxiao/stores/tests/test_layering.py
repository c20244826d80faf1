"""`stores` sits above orders and distribution and below the reports and the H5 pages:
orders reach it only through their port (`orders.services.stores_port`)."""

from pathlib import Path

import fenxiao.orders
import fenxiao.stores
from fenxiao.testing import imports_of_apps

STORES = Path(fenxiao.stores.__file__).parent
ORDERS = Path(fenxiao.orders.__file__).parent
ABOVE = ("analytics", "storefront", "demo")


def test_stores_import_no_app_above_them():
    assert imports_of_apps(STORES, ABOVE) == {}


def test_orders_never_import_stores():
    assert imports_of_apps(ORDERS, ("stores",)) == {}
