"""门店报表's 导购业绩 lists staff in the stores' own order (门店 › 排序, as 门店概况 lists the
stores), each store's 店长 before its 导购: it went by store id and by the role's code, so
"guide" sorted before "manager" and a chain's rows did not line up with the table above."""

from datetime import date

import pytest

from fenxiao.analytics.services import periods, report_stores
from fenxiao.stores.models import StoreStaff
from fenxiao.stores.testing import make_store
from fenxiao.testing import make_buyer

pytestmark = pytest.mark.django_db


def staff(store, nickname, role):
    StoreStaff.objects.create(store=store, user=make_buyer(nickname=nickname), role=role)


def test_guides_follow_the_store_order_with_the_manager_first():
    later = make_store("湖滨店", sort_order=2)  # made first, listed second
    first = make_store("文三路店", sort_order=1)
    staff(later, "小林", StoreStaff.Role.GUIDE)
    staff(later, "阿梅", StoreStaff.Role.MANAGER)
    staff(first, "小贝", StoreStaff.Role.GUIDE)
    staff(first, "老孙", StoreStaff.Role.MANAGER)
    staff(first, "小周", StoreStaff.Role.GUIDE)

    overview, guides = report_stores.build(periods.Period(date.today(), date.today()), {"limit": 20})

    assert [row["store"] for row in overview.table.rows] == ["文三路店", "湖滨店"]
    assert [(row["store"], row["guide"], row["role"]) for row in guides.table.rows] == [
        ("文三路店", "老孙", "店长"),
        ("文三路店", "小贝", "导购"),
        ("文三路店", "小周", "导购"),
        ("湖滨店", "阿梅", "店长"),
        ("湖滨店", "小林", "导购"),
    ]


def test_a_person_on_two_stores_sells_for_the_first_by_id_whatever_the_listing_order():
    from fenxiao.distribution.tests.helpers import bound_buyer, buy, sku
    from fenxiao.stores.services import staff as staff_service
    from fenxiao.testing import make_product

    first = make_store("湖滨店", sort_order=2)  # listed second
    second = make_store("文三路店", sort_order=1)
    person = make_buyer(nickname="小林")
    staff_service.add(first, person.phone, StoreStaff.Role.GUIDE, make_distributor=True)
    staff_service.add(second, person.phone, StoreStaff.Role.GUIDE)
    product = make_product("礼盒", price=8888)
    buy(bound_buyer(person.distributor), (sku(product), 1))

    overview, guides = report_stores.build(periods.Period(date.today(), date.today()), {"limit": 20})

    stores = {row["store"]: row["orders"] for row in overview.table.rows}
    assert stores == {"文三路店": 0, "湖滨店": 1}
    assert [(row["store"], row["orders"]) for row in guides.table.rows] == [("文三路店", 0), ("湖滨店", 1)]
