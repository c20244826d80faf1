"""`core` is the bottom layer: every app imports it, so it imports no app."""

from pathlib import Path

import fenxiao.core
from fenxiao.testing import module_imports, package_modules

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
    checked = package_modules(CORE, skip=("tests",))
    assert any(path.name == "money.py" for path in checked)
    offenders = {
        str(path.relative_to(CORE)): sorted(
            name for name in module_imports(path) if name.split(".")[:2] in (["fenxiao", app] for app in APPS)
        )
        for path in checked
    }
    assert {path: names for path, names in offenders.items() if names} == {}
