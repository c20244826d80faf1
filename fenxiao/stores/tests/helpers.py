"""Shared helpers for the store tests: stores, staff and scans the way a shopper makes them."""

import itertools

from django.test import Client

from fenxiao.stores.models import Store, StoreSettings
from fenxiao.stores.services import membership
from fenxiao.stores.services import staff as staff_service
from fenxiao.testing import make_buyer

_names = itertools.count(1)


def make_store(name: str | None = None, *, manager=None, **fields) -> Store:
    return Store.objects.create(
        name=name or f"门店{next(_names)}",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address_detail="文三路1号",
        hours="09:00-21:00",
        manager=manager,
        **fields,
    )


def store_settings(**fields) -> StoreSettings:
    cfg = membership.settings()
    for name, value in fields.items():
        setattr(cfg, name, value)
    cfg.save()
    return cfg


def guide(store: Store, *, distributor: bool = True, role: str = "guide"):
    user = make_buyer()
    return staff_service.add(store, user.phone, role, make_distributor=distributor)


def scan(buyer, store: Store, staff=None):
    """A signed-in buyer opens the store's QR (or a staff member's personal store QR)."""
    browser = Client()
    browser.force_login(buyer)
    path = f"/s/{store.code}/" + (f"{staff.code}/" if staff is not None else "")
    reply = browser.get(path)
    assert reply.status_code == 302, reply.status_code
    return reply
