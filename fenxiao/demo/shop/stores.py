"""Two demo stores in 杭州 with pickup, stock of some products, and a store clerk who signs
in on the H5 site to verify pickup codes (核销) at /store/verify/."""

from fenxiao.catalog.models import Sku
from fenxiao.customers.models import User
from fenxiao.customers.services.accounts import create_buyer
from fenxiao.stores.models import Store, StoreStaff
from fenxiao.stores.services.stock import set_stock

from .people import Account

CLERK_PHONE = "13900009001"
CLERK_PASSWORD = "Store#2026"

STORES = [
    {
        "name": "杭州湖滨店",
        "province": "浙江省",
        "city": "杭州市",
        "district": "上城区",
        "address_detail": "湖滨路 23 号",
        "latitude": "30.259800",
        "longitude": "120.164600",
        "hours": "10:00-22:00，周一至周日",
        "phone": "0571-87001234",
        "sort_order": 1,
    },
    {
        "name": "杭州文三路店",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_detail": "文三路 478 号",
        "latitude": "30.279500",
        "longitude": "120.126300",
        "hours": "09:00-21:00，周一至周日",
        "phone": "0571-88005678",
        "sort_order": 2,
    },
]


def create_stores(skus: list[Sku]) -> Account:
    """Idempotent: stores by name, stock set only where a store has none of it yet."""
    stores = []
    for fields in STORES:
        store, _ = Store.objects.get_or_create(name=fields["name"], defaults=fields)
        stores.append(store)
    sellable = sorted(skus, key=lambda s: s.pk)
    # The first store carries most of the range, the second a smaller choice.
    for store, share, level in ((stores[0], 2, 20), (stores[1], 4, 8)):
        if not store.stock.exists():
            set_stock(store.pk, {sku.pk: level for sku in sellable[::share]})
    clerk = User.objects.filter(phone=CLERK_PHONE).first()
    created = clerk is None
    if created:
        clerk = create_buyer(phone=CLERK_PHONE, password=CLERK_PASSWORD, nickname="湖滨店店员小林")
    StoreStaff.objects.get_or_create(store=stores[0], user=clerk, defaults={"role": StoreStaff.Role.GUIDE})
    return Account("门店店员（湖滨店，H5 核销 /store/verify/）", CLERK_PHONE, CLERK_PASSWORD, created)
