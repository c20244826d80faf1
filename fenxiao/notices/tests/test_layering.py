"""`notices` sits low: orders, payments and distribution call it, so it imports none of
them (nor anything above them)."""

from pathlib import Path

import fenxiao.notices
from fenxiao.testing import imports_of_apps, package_modules

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
    assert any(path.name == "inbox.py" for path in package_modules(NOTICES))
    assert imports_of_apps(NOTICES, ABOVE) == {}
