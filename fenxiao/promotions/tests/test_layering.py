"""Promotions sit above orders: promotions imports orders, orders reaches promotions only
through `orders.services.promotions_port`, wired in at startup."""

from pathlib import Path

import fenxiao.orders
from fenxiao.orders.services import promotions_port
from fenxiao.testing import imports_of_apps, package_modules

ORDERS = Path(fenxiao.orders.__file__).parent


def test_orders_never_imports_promotions():
    assert any(p.name == "checkout.py" for p in package_modules(ORDERS))
    assert imports_of_apps(ORDERS, ("promotions",)) == {}
    for path in ORDERS.glob("migrations/*.py"):
        text = path.read_text()
        assert '("promotions"' not in text and "'promotions'" not in text and "promotions." not in text, path


def test_the_pricing_engine_is_wired_in_at_startup():
    from fenxiao.promotions.services import for_orders

    assert promotions_port._port is for_orders
