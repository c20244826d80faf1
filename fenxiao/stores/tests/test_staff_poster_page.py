"""A 导购's (and a 店长's) counter poster on the H5 store page (/store/): the backend's poster
drawing, served at /store/poster.png for the signed-in staff member's own code only. No
address names another 导购; one who left, a buyer, a closed store get nothing."""

import pytest
from django.test import Client

from fenxiao.stores.services import qr
from fenxiao.stores.services import staff as staff_service
from fenxiao.testing import login, make_buyer

from .helpers import guide, make_store

pytestmark = pytest.mark.django_db


def test_a_guide_downloads_their_own_poster_and_no_one_elses():
    store = make_store("西湖店", manager=make_buyer())
    mine, other = guide(store), guide(store)
    browser = login(mine.user)

    page = browser.get("/store/").content.decode()
    assert 'src="/store/poster.png"' in page and "我的海报" in page and "长按海报保存到相册" in page
    assert 'href="/store/poster.png" download="store-poster-' in page

    reply = browser.get("/store/poster.png")
    assert reply.status_code == 200 and reply["Content-Type"] == "image/png"
    assert reply.content == qr.poster_png(store, mine)  # the backend's drawing, their own QR
    assert reply.content != qr.poster_png(store, other) and reply.content != qr.poster_png(store)
    assert reply["Cache-Control"] == "private, max-age=3600"
    assert f'filename="store-{store.code}-{mine.code}.png"' in reply["Content-Disposition"]
    # Nothing in the address picks a code: asking for another store or guide changes nothing.
    elsewhere = make_store()
    for query in (f"staff={other.pk}", f"store={elsewhere.pk}"):
        assert browser.get(f"/store/poster.png?{query}").content == reply.content


def test_a_guide_who_left_a_buyer_and_a_visitor_get_nothing():
    store = make_store(manager=make_buyer())
    departed = guide(store)
    staff_service.remove(departed)
    assert login(departed.user).get("/store/poster.png").status_code == 404
    assert login(departed.user).get("/store/qr.png").status_code == 404
    assert login(make_buyer()).get("/store/poster.png").status_code == 404
    visitor = Client().get("/store/poster.png")
    assert visitor.status_code == 302 and visitor["Location"].startswith("/login/")


def test_a_manager_gets_the_poster_of_the_store_they_look_at_and_only_theirs():
    manager = make_buyer()
    first, second = make_store("一店", manager=manager), make_store("二店", manager=manager)
    foreign = make_store()
    browser = login(manager)

    page = browser.get(f"/store/?store={second.pk}").content.decode()
    assert f'src="/store/poster.png?store={second.pk}"' in page and "门店海报" in page
    assert browser.get(f"/store/poster.png?store={second.pk}").content == qr.poster_png(second)
    assert browser.get("/store/poster.png").content == qr.poster_png(first)
    for asked in (foreign.pk, "abc", "99999999999999999999"):
        assert browser.get(f"/store/poster.png?store={asked}").status_code == 404
    # The store QR follows the same choice (it used to answer one store whatever was shown).
    assert browser.get(f"/store/qr.png?store={second.pk}").content == qr.store_qr_png(second)


def test_a_closed_stores_poster_is_refused_and_the_page_says_why():
    store = make_store("湖滨店", manager=make_buyer())
    staff = guide(store)
    type(store).objects.filter(pk=store.pk).update(is_open=False)
    browser = login(staff.user)
    assert browser.get("/store/poster.png").status_code == 404
    page = browser.get("/store/").content.decode()
    assert "湖滨店已停止营业，顾客扫码不能入会；恢复营业后可下载海报" in page
    assert "/store/poster.png" not in page


def test_a_guide_without_a_nickname_is_not_printed_by_their_phone(monkeypatch):
    from fenxiao.stores.services import qr as qr_module

    written = []
    real = qr_module.ImageDraw.ImageDraw.text
    monkeypatch.setattr(
        qr_module.ImageDraw.ImageDraw,
        "text",
        lambda self, xy, text, *args, **kw: written.append(text) or real(self, xy, text, *args, **kw),
    )
    store = make_store()
    staff = guide(store)
    qr.poster_png(store, staff)
    assert not any(staff.user.phone[-4:] in text for text in written)
    assert "专属导购为您服务 · 到店自提 · 会员专享" in written
    type(staff.user).objects.filter(pk=staff.user_id).update(nickname="小王")
    staff.user.refresh_from_db()
    written.clear()
    qr.poster_png(store, staff)
    assert "导购 小王 为您服务" in written
