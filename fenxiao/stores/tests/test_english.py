"""The store backend pages and the POS API in English: store list and form, the store stock
page, 门店设置, 门店码与导购, staff, POS keys and till sales, with nothing Chinese left
outside the shop's own data; a POS refusal in English keeps its code; Chinese by default."""

import pytest
from django.utils import timezone

from fenxiao.shipping import regions
from fenxiao.stores.models import OfflineSale, OfflineSaleLine, Store
from fenxiao.stores.services import membership, pos_keys
from fenxiao.stores.services import staff as staff_service
from fenxiao.testing import (
    assert_refused,
    backend_content,
    chinese_left,
    in_english,
    login,
    make_buyer,
    make_category,
    make_product,
    make_staff,
)

from .pos_till import Till

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = Store.objects.create(
        name="Lakeside",
        province="Zhejiang",
        city="Hangzhou",
        district="Xihu",
        address_detail="1 Wensan Road",
        hours="09:00-21:00",
        phone="0571-88888888",
    )
    product = make_product("Green tea", category=make_category("Drinks"), specs_list=[{"size": "L"}])
    clerk = make_buyer(nickname="Alice")
    staff = staff_service.add(store, clerk.phone, "guide", make_distributor=False)
    key, _secret = pos_keys.create_key(store, name="Front till")
    sale = OfflineSale.objects.create(
        store=store, sale_no="S-1", total=1200, sold_at=timezone.now(), buyer_phone="13800000000"
    )
    OfflineSaleLine.objects.create(sale=sale, sku_code="TEA-1", quantity=1, amount=1200)
    membership.settings()
    boss = in_english(login(make_staff("boss", superuser=True)))
    return {"store": store, "product": product, "staff": staff, "key": key, "sale": sale, "boss": boss}


# The shop's own data on these pages (names, specs, addresses as entered).
DATA = ("Lakeside", "Green tea", "Drinks", "size", "Alice")


def english(client, url, *data):
    reply = client.get(url)
    assert reply.status_code == 200, (url, reply.status_code)
    left = chinese_left(backend_content(reply.content.decode()), *DATA, *data)
    assert left == [], (url, left)
    return reply.content.decode()


def test_store_pages_are_english(shop):
    boss, store = shop["boss"], shop["store"]
    body = english(boss, "/backend/stores/store/")
    assert "SKUs in stock" in body
    # The 省 select lists the divisions by their names, which are data like an address.
    provinces = [name for _code, name in regions.province_choices()]
    body = english(boss, f"/backend/stores/store/{store.pk}/change/", *provinces)
    assert "Please choose" in body
    english(boss, "/backend/stores/store/add/", *provinces)
    body = english(boss, f"/backend/stores/store/{store.pk}/stock/")
    assert "Save store stock" in body and "Online stock" in body


def test_store_settings_qr_and_staff_pages_are_english(shop):
    boss, store = shop["boss"], shop["store"]
    cfg = membership.settings()
    body = english(boss, f"/backend/stores/storesettings/{cfg.pk}/change/")
    assert "Scan binding" in body
    english(boss, "/backend/stores/storeqr/")
    body = english(boss, f"/backend/stores/storeqr/{store.pk}/change/")
    assert "Download poster (PNG)" in body
    english(boss, "/backend/stores/storestaff/")
    english(boss, "/backend/stores/storestaff/add/")
    english(boss, f"/backend/stores/storestaff/{shop['staff'].pk}/change/")
    english(boss, "/backend/stores/storemember/")
    english(boss, "/backend/stores/storestock/")


def test_pos_pages_are_english(shop):
    boss = shop["boss"]
    english(boss, "/backend/stores/posapikey/")
    english(boss, "/backend/stores/posapikey/add/")
    english(boss, f"/backend/stores/posapikey/{shop['key'].pk}/change/")
    english(boss, "/backend/stores/offlinesale/")
    english(boss, f"/backend/stores/offlinesale/{shop['sale'].pk}/change/")


def test_a_pos_refusal_in_english_keeps_its_code(shop):
    till = Till(shop["store"])
    english_reply = till.client.post(
        "/api/v1/pos/sales", {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert english_reply.status_code == 401
    assert english_reply.json() == {
        "code": "POS_KEY_MISSING",
        "message": "Missing signature headers (X-Fenxiao-Key, X-Fenxiao-Timestamp, X-Fenxiao-Nonce, "
        "X-Fenxiao-Signature)",
    }
    chinese = till.client.post("/api/v1/pos/sales", {}, content_type="application/json")
    assert_refused(chinese, 401, "POS_KEY_MISSING")


def test_the_default_is_still_chinese(shop):
    boss = login(make_staff("boss", superuser=True))
    body = boss.get(f"/backend/stores/store/{shop['store'].pk}/stock/").content.decode()
    assert "保存门店库存" in body and "线上库存" in body
    assert "Save store stock" not in body


def test_the_pickup_permission_has_an_english_name():
    """The role page reads permission names through the catalog (核销自提订单 stood in Chinese)."""
    from django.contrib.auth.models import Permission
    from django.utils import translation

    name = Permission.objects.get(codename="verify_pickup").name
    with translation.override("en"):
        assert translation.gettext(name) == "Verify pickup orders"
