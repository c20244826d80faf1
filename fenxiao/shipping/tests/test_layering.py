"""`shipping` (carriers, fee templates, regions) sits below the catalog: products name a
fee template and orders price and ship with it, so it imports none of them."""

from pathlib import Path

import fenxiao.shipping
from fenxiao.testing import imports_of_apps, package_modules

SHIPPING = Path(fenxiao.shipping.__file__).parent
ABOVE = (
    "catalog",
    "orders",
    "payments",
    "distribution",
    "promotions",
    "stores",
    "analytics",
    "storefront",
    "demo",
)


def test_shipping_imports_no_app_above_it():
    assert any(path.name == "carriers.py" for path in package_modules(SHIPPING))
    assert imports_of_apps(SHIPPING, ABOVE) == {}
