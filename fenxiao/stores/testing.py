"""Test helpers for stores: a store with stock, a staff member of it."""

from itertools import count

_seq = count(1)


def make_store(name=None, *, stock=None, lat=None, lng=None, **fields):
    """A store in 杭州; `stock` is {sku_id: level}."""
    from .models import Store, StoreStock

    data = {
        "name": name or f"门店{next(_seq)}",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_detail": "文三路 1 号",
        "hours": "09:00-21:00",
        "phone": "0571-88888888",
        "latitude": lat,
        "longitude": lng,
    }
    data.update(fields)
    store = Store.objects.create(**data)
    StoreStock.objects.bulk_create(
        StoreStock(store=store, sku_id=sku, stock=n) for sku, n in (stock or {}).items()
    )
    return store


def make_store_staff(store, role="guide"):
    from fenxiao.testing import make_buyer

    from .models import StoreStaff

    user = make_buyer()
    StoreStaff.objects.create(store=store, user=user, role=role)
    return user


def store_stock(store, sku) -> int:
    from .models import StoreStock

    row = StoreStock.objects.filter(store=store, sku=sku).first()
    return row.stock if row else 0
