"""`notices` sits low: orders, payments and distribution call it, so it imports none of
them (nor anything above them)."""

from pathlib import Path

import fenxiao.notices
from fenxiao.testing import module_imports, package_modules

NOTICES = Path(fenxiao.notices.__file__).parent
ABOVE = (
    "catalog",
    "orders",
    "payments",
    "distribution",
    "promotions",
    "stores",
    "webhooks",
    "analytics",
    "storefront",
    "demo",
)


def test_notices_import_no_app_above_them():
    checked = package_modules(NOTICES, skip=("tests",))
    assert any(path.name == "inbox.py" for path in checked)
    offenders = {
        str(path.relative_to(NOTICES)): sorted(
            name
            for name in module_imports(path)
            if name.split(".")[:2] in (["fenxiao", app] for app in ABOVE)
        )
        for path in checked
    }
    assert {path: names for path, names in offenders.items() if names} == {}
