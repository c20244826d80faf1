"""我的门店: a buyer who joined a store finds it under 我的 (/me/store/) and in the app
(GET /stores/mine): address, hours, phone, open or not, 到店自提, and the 导购 who looks after
them by name only. A buyer of no store sees no entry and is sent shopping."""

import re

import pytest
from django.test import Client

from fenxiao.stores.models import MemberMode, MemberSource, StoreMember, StoreStaff
from fenxiao.stores.services import membership
from fenxiao.stores.services import staff as staff_service
from fenxiao.testing import ApiClient, api_for, chinese_left, in_english, login, make_buyer

from .helpers import guide, make_store, scan, store_settings

pytestmark = pytest.mark.django_db


def nicknamed_guide(store, nickname="小王"):
    staff = guide(store)
    type(staff.user).objects.filter(pk=staff.user_id).update(nickname=nickname)
    staff.user.refresh_from_db()
    return staff


def member_of(store, staff=None):
    buyer = make_buyer()
    scan(buyer, store, staff)
    return buyer


def test_a_member_finds_their_store_under_me_with_its_guide_by_name_only():
    store = make_store("西湖旗舰店", phone="0571-88886666", manager=make_buyer())
    staff = nicknamed_guide(store)
    buyer = member_of(store, staff)
    browser = login(buyer)

    me = browser.get("/me/").content.decode()
    entry = me.split('data-testid="me-my-store"')[1].split("</a>")[0]
    assert 'href="/me/store/"' in me and "我的门店" in entry and "西湖旗舰店" in entry

    page = browser.get("/me/store/")
    text = page.content.decode()
    assert page.status_code == 200
    assert '<h2 style="margin:0" data-testid="my-store-name">西湖旗舰店</h2>' in text
    assert 'data-testid="my-store-address">浙江省杭州市西湖区文三路1号</span>' in text
    assert 'data-testid="my-store-hours">09:00-21:00</span>' in text
    assert '<a href="tel:0571-88886666" data-testid="my-store-phone">0571-88886666</a>' in text
    assert 'data-testid="my-store-state">营业中</span>' in text
    assert 'data-testid="my-store-pickup">支持，下单时选择到店自提</span>' in text
    assert 'data-testid="my-store-guide">小王</span>' in text
    assert "通过导购码成为会员" in text
    # The guide's phone stays out, not even masked.
    phone = staff.user.phone
    assert phone not in text and f"{phone[:3]}****{phone[-4:]}" not in text
    # Nor its last four digits on their own (a longer number on the page, e.g. an asset's
    # version stamp, may hold the same four digits).
    assert not re.search(rf"(?<!\d){phone[-4:]}(?!\d)", text)


def test_a_guide_without_a_nickname_is_not_named_by_their_phone():
    store = make_store()
    staff = guide(store)
    text = login(member_of(store, staff)).get("/me/store/").content.decode()
    assert 'data-testid="my-store-guide">门店导购</span>' in text
    assert not re.search(rf"(?<!\d){staff.user.phone[-4:]}(?!\d)", text)


def test_a_guide_who_left_looks_after_nobody_and_a_store_qr_member_has_no_guide():
    store = make_store()
    staff = nicknamed_guide(store, "阿强")
    buyer = member_of(store, staff)
    staff_service.remove(staff)
    text = login(buyer).get("/me/store/").content.decode()
    assert "阿强" not in text and "专属导购" not in text
    assert "专属导购" not in login(member_of(store)).get("/me/store/").content.decode()


def test_a_closed_store_or_one_without_pickup_says_so():
    store = make_store("湖滨店", pickup_enabled=False)
    buyer = member_of(store)
    browser = login(buyer)
    text = browser.get("/me/store/").content.decode()
    assert 'data-testid="my-store-pickup">暂不支持</span>' in text
    assert "未提供" in text and "tel:" not in text  # no phone given

    type(store).objects.filter(pk=store.pk).update(is_open=False, pickup_enabled=True)
    text = browser.get("/me/store/").content.decode()
    assert 'data-testid="my-store-state">已停止营业</span>' in text
    assert 'data-testid="my-store-pickup">门店停业，暂不支持</span>' in text
    assert "湖滨店已停止营业，欢迎在线选购" in text
    assert "湖滨店" in browser.get("/me/").content.decode()  # still their store, still reachable


def test_a_buyer_of_no_store_sees_no_entry_and_is_sent_shopping():
    browser = login(make_buyer())
    assert "/me/store/" not in browser.get("/me/").content.decode()
    page = browser.get("/me/store/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "您还没有加入门店" in text and '<a class="btn" href="/">去逛逛</a>' in text
    assert "my-store-name" not in text
    visitor = Client().get("/me/store/")  # signed out: sign in first
    assert visitor.status_code == 302 and visitor["Location"].startswith("/login/")


def test_the_store_shown_is_the_one_the_buyer_counts_for():
    first, latest = make_store("先到店"), make_store("后到店")
    buyer = member_of(first)
    scan(buyer, latest)  # member mode 首个门店: still the first
    assert "先到店" in login(buyer).get("/me/store/").content.decode()
    store_settings(member_mode=MemberMode.LATEST)
    scan(buyer, latest)
    text = login(buyer).get("/me/store/").content.decode()
    assert "后到店" in text and "先到店" not in text
    # A member registered by the store's till counts the same.
    till_buyer = make_buyer()
    membership.join(first, till_buyer, MemberSource.POS)
    assert "通过门店收银成为会员" in login(till_buyer).get("/me/store/").content.decode()


def test_the_page_and_me_read_a_fixed_number_of_queries(django_assert_max_num_queries):
    store = make_store(phone="0571-1")
    staff = nicknamed_guide(store)
    buyer = member_of(store, staff)
    browser = login(buyer)

    def measure(path):
        with django_assert_max_num_queries(99) as counted:
            assert browser.get(path).status_code == 200
        return len(counted.captured_queries)

    page, me = measure("/me/store/"), measure("/me/")
    # The store grows: members, staff, other stores the buyer joined before.
    for _ in range(5):
        member_of(store, guide(store))
    other = make_store()
    StoreMember.objects.create(store=other, buyer=buyer, source=MemberSource.STORE_QR, is_current=False)
    StoreStaff.objects.filter(store=store).exclude(pk=staff.pk).update(is_active=False)
    assert measure("/me/store/") == page
    assert measure("/me/") == me


def test_the_page_is_english_when_the_buyer_picked_english():
    store = make_store("Lakeside", phone="0571-1")
    buyer = member_of(store, nicknamed_guide(store, "Wang"))
    browser = in_english(login(buyer))
    text = browser.get("/me/store/").content.decode()
    assert "Opening hours" in text and "Yes: choose store pickup at checkout" in text
    assert chinese_left(text, store.address_text) == []
    assert chinese_left(in_english(login(make_buyer())).get("/me/store/").content.decode()) == []
    me = browser.get("/me/").content.decode()
    assert "My store" in me


def test_the_app_gets_the_buyers_store_and_a_clean_empty_answer_without_one():
    store = make_store("滨江店", phone="0571-2", manager=make_buyer())
    staff = nicknamed_guide(store, "小李")
    buyer = member_of(store, staff)

    reply = api_for(buyer).get("/stores/mine")
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["member"] is True and body["source"] == "staff_qr" and body["joined_at"]
    assert body["guide"] == {"name": "小李"}
    assert body["store"] == {
        "id": store.pk,
        "name": "滨江店",
        "address": "浙江省杭州市西湖区文三路1号",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_detail": "文三路1号",
        "hours": "09:00-21:00",
        "phone": "0571-2",
        "is_open": True,
        "pickup_enabled": True,
        "pickup_offered": True,
    }
    assert staff.user.phone not in reply.content.decode()

    staff_service.remove(staff)
    assert api_for(buyer).get("/stores/mine").json()["guide"] is None

    empty = api_for(make_buyer()).get("/stores/mine")
    assert empty.status_code == 200
    assert empty.json() == {"member": False, "store": None, "joined_at": None, "source": None, "guide": None}
    assert ApiClient().get("/stores/mine").status_code == 401


def test_the_app_endpoint_is_documented(client):
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/stores/mine"]["get"]
    assert operation["summary"] == "我的门店" and "member: false" in operation["description"]
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["MyStoreOut"]
    assert "guide" in schema["properties"] and schema["properties"]["member"]["description"]
