"""Promotions sit above orders: promotions imports orders, orders reaches promotions only
through `orders.services.promotions_port`, wired in at startup."""

from pathlib import Path

import fenxiao.orders
from fenxiao.orders.services import promotions_port
from fenxiao.testing import module_imports, package_modules

ORDERS = Path(fenxiao.orders.__file__).parent


def test_orders_never_imports_promotions():
    checked = package_modules(ORDERS, skip=("tests",))
    assert any(p.name == "checkout.py" for p in checked)
    offenders = {
        str(path.relative_to(ORDERS.parent)): sorted(
            name for name in module_imports(path) if name.split(".")[:2] == ["fenxiao", "promotions"]
        )
        for path in checked
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    for path in ORDERS.glob("migrations/*.py"):
        text = path.read_text()
        assert '("promotions"' not in text and "'promotions'" not in text and "promotions." not in text, path


def test_the_pricing_engine_is_wired_in_at_startup():
    from fenxiao.promotions.services import for_orders

    assert promotions_port._port is for_orders
