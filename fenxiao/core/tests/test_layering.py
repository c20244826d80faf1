"""`core` is the bottom layer: every app imports it, so it imports no app."""

from pathlib import Path

import fenxiao.core
from fenxiao.testing import imports_of_apps, package_modules

CORE = Path(fenxiao.core.__file__).parent
APPS = (
    "catalog",
    "customers",
    "notices",
    "webhooks",
    "shipping",
    "orders",
    "payments",
    "distribution",
    "promotions",
    "stores",
    "analytics",
    "storefront",
    "demo",
)


def test_core_imports_no_app():
    assert any(path.name == "money.py" for path in package_modules(CORE))
    assert imports_of_apps(CORE, APPS) == {}
