"""确认订单 → 到店自提 when no store has the goods: the page offers no distance sorting (there
is nothing to sort) and gives the buyer the way on, a 快递配送 button back to delivery."""

import pytest

from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db


def pickup_section(store_stock: int, qty: int) -> tuple[int, str]:
    """A 龙井茶 SKU, one store holding `store_stock` of it, and the 到店自提 section of the
    checkout a buyer opens for `qty`: (the SKU's id, the section's HTML)."""
    sku = make_product("龙井茶", stock=10).skus.get()
    make_store("湖滨店", stock={sku.pk: store_stock})
    buyer = make_buyer()
    make_address(buyer)
    html = login(buyer).get(f"/checkout/?sku={sku.pk}&qty={qty}&fulfilment=pickup").content.decode()
    section = html[html.index('data-testid="pickup-stores"') :]
    return sku.pk, section[: section.index("</section>")]


def test_no_store_with_the_goods_leads_back_to_delivery():
    """It showed 按距离排序 and 允许定位后按距离由近到远排列 above 暂无门店有这些商品的现货，
    请选择快递配送, with the 提交订单 button disabled and no way to delivery but the tab up top."""
    sku, section = pickup_section(store_stock=0, qty=2)
    assert 'data-testid="pickup-none"' in section
    assert "data-locate" not in section and "按距离排序" not in section
    assert f'href="/checkout/?sku={sku}&amp;qty=2" data-testid="pickup-none-delivery">快递配送</a>' in section


def test_stores_with_the_goods_can_still_be_sorted_by_distance():
    _, section = pickup_section(store_stock=3, qty=1)
    assert "按距离排序" in section and "湖滨店" in section
    assert "pickup-none" not in section


def test_no_store_picked_yet_says_why_submit_is_disabled():
    """到店自提 with stores to pick from and none picked: 提交订单 was greyed out with no word
    of why; the section now asks for a store."""
    _, section = pickup_section(store_stock=3, qty=1)
    assert 'data-testid="pickup-required">请选择自提门店</p>' in section


def test_a_picked_store_asks_for_nothing():
    sku = make_product("龙井茶", stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 3})
    buyer = make_buyer()
    url = f"/checkout/?sku={sku.pk}&qty=1&fulfilment=pickup&store={store.pk}"
    html = login(buyer).get(url).content.decode()
    assert "pickup-required" not in html
    assert "请选择自提门店" not in html
