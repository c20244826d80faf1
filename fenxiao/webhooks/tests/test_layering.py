"""`webhooks` sits low (next to notices): orders, payments and distribution emit events, so it
imports none of them (nor anything above them)."""

from pathlib import Path

import fenxiao.webhooks
from fenxiao.testing import imports_of_apps, package_modules

WEBHOOKS = Path(fenxiao.webhooks.__file__).parent
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


def test_webhooks_import_no_app_above_them():
    assert any(path.name == "events.py" for path in package_modules(WEBHOOKS))
    assert imports_of_apps(WEBHOOKS, ABOVE) == {}
