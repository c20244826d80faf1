"""`stores` sits above orders and distribution and below the reports and the H5 pages:
orders reach it only through their port (`orders.services.stores_port`)."""

from pathlib import Path

import fenxiao.orders
import fenxiao.stores
from fenxiao.testing import module_imports, package_modules

STORES = Path(fenxiao.stores.__file__).parent
ORDERS = Path(fenxiao.orders.__file__).parent
ABOVE = ("analytics", "storefront", "demo")


def _offenders(root: Path, names: tuple[str, ...]) -> dict:
    found = {
        str(path.relative_to(root)): sorted(
            name for name in module_imports(path) if name.split(".")[:2] in (["fenxiao", n] for n in names)
        )
        for path in package_modules(root, skip=("tests",))
    }
    return {path: names for path, names in found.items() if names}


def test_stores_import_no_app_above_them():
    assert _offenders(STORES, ABOVE) == {}


def test_orders_never_import_stores():
    assert _offenders(ORDERS, ("stores",)) == {}
