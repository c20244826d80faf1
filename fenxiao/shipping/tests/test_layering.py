"""`shipping` (carriers, fee templates, regions) sits below the catalog: products name a
fee template and orders price and ship with it, so it imports none of them."""

from pathlib import Path

import fenxiao.shipping
from fenxiao.testing import module_imports, package_modules

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
    checked = package_modules(SHIPPING, skip=("tests",))
    assert any(path.name == "carriers.py" for path in checked)
    offenders = {
        str(path.relative_to(SHIPPING)): sorted(
            name
            for name in module_imports(path)
            if name.split(".")[:2] in (["fenxiao", app] for app in ABOVE)
        )
        for path in checked
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_regions_import_no_app_so_the_address_book_may_use_them():
    # customers (below shipping) validates addresses with regions: it must stay app-free.
    names = module_imports(SHIPPING / "regions.py")
    assert not [name for name in names if name.startswith("fenxiao")]
