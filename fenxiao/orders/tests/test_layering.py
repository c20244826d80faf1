"""One direction between orders and payments: payments imports orders, never the reverse.

(See `fenxiao/orders/services/payments_port.py`.) The order backend pages are the one
exception: they list an order's payments and refunds, and nothing imports them.
"""

from pathlib import Path

import fenxiao.orders
import fenxiao.payments
from fenxiao.orders.services import payments_port
from fenxiao.testing import module_imports as imports
from fenxiao.testing import package_modules as modules

ORDERS = Path(fenxiao.orders.__file__).parent
PAYMENTS = Path(fenxiao.payments.__file__).parent


def test_orders_never_imports_payments():
    checked = modules(ORDERS, skip=("tests", "admin"))
    assert any(p.name == "lifecycle.py" for p in checked) and any(p.name == "api.py" for p in checked)
    offenders = {
        str(path.relative_to(ORDERS.parent)): sorted(
            name
            for name in imports(path)
            if name == "fenxiao.payments" or name.startswith("fenxiao.payments.")
        )
        for path in checked
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    for path in ORDERS.glob("migrations/*.py"):
        assert "payments" not in path.read_text(), path


def test_payments_is_the_upper_app_and_is_wired_in_at_startup():
    upward = [
        path
        for path in modules(PAYMENTS, skip=("tests",))
        if any(name.startswith("fenxiao.orders") for name in imports(path))
    ]
    assert upward, "payments is expected to import orders (it pays orders)"
    from fenxiao.payments.services import for_orders

    assert payments_port._port is for_orders


def test_other_apps_never_import_the_order_backend_pages():
    """The phone helpers the other apps' pages share live in customers.backoffice.listing;
    importing them from orders.admin loaded every order page into those apps."""
    root = ORDERS.parent
    offenders = {
        str(path.relative_to(root)): names
        for app in root.iterdir()
        if app.is_dir() and app.name != "orders" and (app / "__init__.py").exists()
        for path in modules(app, skip=("tests",))
        if (names := sorted(n for n in imports(path) if n.startswith("fenxiao.orders.admin")))
    }
    assert offenders == {}
