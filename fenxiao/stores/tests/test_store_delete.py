"""Deleting a store: one with staff, members, pickup orders or till sales is kept, and the
page says what it has and to close it instead (Django told even a superuser they lacked the
right to delete 门店员工, and a store with no staff took its members and left its pickup
orders pointing nowhere). A store added by mistake still goes."""

import pytest

from fenxiao.orders.services import checkout
from fenxiao.stores.models import Store, StoreMember
from fenxiao.stores.testing import make_store, make_store_staff
from fenxiao.testing import in_english, login, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def test_a_store_with_staff_says_so_and_to_close_it_instead(boss):
    store = make_store("湖滨店")
    make_store_staff(store)
    make_store_staff(store)
    page = boss.get(f"/backend/stores/store/{store.pk}/delete/").content.decode()
    assert "门店“湖滨店”已有员工 2 人，不能删除" in page and "关闭“营业中”和“支持到店自提”" in page
    assert f'href="/backend/stores/store/{store.pk}/change/"' in page
    assert "无权删除" not in page
    boss.post(f"/backend/stores/store/{store.pk}/delete/", {"post": "yes"})
    assert Store.objects.filter(pk=store.pk).exists()
    english = in_english(boss).get(f"/backend/stores/store/{store.pk}/delete/").content.decode()
    assert "already has 2 staff and cannot be deleted" in english


def test_members_and_pickup_orders_keep_a_store_without_staff_and_the_bulk_delete_too(boss):
    sku = make_product(price=5000, stock=5).skus.get()
    lake, station = make_store("湖滨店"), make_store("东站店", stock={sku.pk: 5})
    mistake = make_store("录错的店")
    StoreMember.objects.create(store=lake, buyer=make_buyer())
    checkout.place_order(make_buyer(), [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=station.pk)
    chosen = {
        "action": "delete_selected",
        "_selected_action": [lake.pk, station.pk, mistake.pk],
        "post": "yes",
    }
    page = boss.post("/backend/stores/store/", chosen).content.decode()
    assert "门店“湖滨店”已有会员 1 人，不能删除" in page
    assert "门店“东站店”已有自提订单 1 笔，不能删除" in page
    assert "录错的店" not in page
    assert Store.objects.count() == 3  # nothing deleted while one of them is kept
    reply = boss.post(f"/backend/stores/store/{mistake.pk}/delete/", {"post": "yes"})
    assert reply.status_code == 302 and not Store.objects.filter(pk=mistake.pk).exists()
