"""`webhooks` sits low (next to notices): orders, payments and distribution emit events, so it
imports none of them (nor anything above them)."""

from pathlib import Path

import fenxiao.webhooks
from fenxiao.testing import module_imports, package_modules

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
    checked = package_modules(WEBHOOKS, skip=("tests",))
    assert any(path.name == "events.py" for path in checked)
    offenders = {
        str(path.relative_to(WEBHOOKS)): sorted(
            name
            for name in module_imports(path)
            if name.split(".")[:2] in (["fenxiao", app] for app in ABOVE)
        )
        for path in checked
    }
    assert {path: names for path, names in offenders.items() if names} == {}
