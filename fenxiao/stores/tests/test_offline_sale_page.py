"""A 门店销售 page in Chinese names every field and column in Chinese: the key the till signed
with (收银系统密钥) and the shop's SKU a line was matched to (商品规格); they read "Api key"
and "Sku", the model field names."""

import re

import pytest
from django.utils import timezone

from fenxiao.stores.models import OfflineSale, OfflineSaleLine
from fenxiao.stores.services import pos_keys
from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db


def test_the_sale_page_labels_the_key_and_the_matched_sku_in_chinese():
    store = make_store("湖滨店")
    key, _secret = pos_keys.create_key(store, name="前台收银")
    sku = make_product("龙井茶").skus.first()
    sale = OfflineSale.objects.create(
        store=store, sale_no="S-1", total=1200, sold_at=timezone.now(), api_key=key
    )
    OfflineSaleLine.objects.create(sale=sale, sku_code=sku.code, sku=sku, quantity=1, amount=1200)
    boss = login(make_staff("boss", superuser=True))

    page = boss.get(f"/backend/stores/offlinesale/{sale.pk}/change/").content.decode()

    words = set(re.findall(r">\s*([A-Za-z][A-Za-z ]*[a-z])\s*<", page))
    assert not words & {"Api key", "Sku"}, words
    assert "收银系统密钥" in page and "商品规格" in page
