"""Browser, on a 375 px phone: a store member opens 我的门店 from 我的 and can call the store;
a 导购 sees their own poster on /store/, ready to long-press-save."""

import pytest

from fenxiao.stores.testing import make_store as make_store_at
from fenxiao.testing import make_buyer

from .helpers import guide, make_store, scan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def sign_in(phone, number: str, next_path: str):
    phone.page.goto(f"/login/?next={next_path}")
    phone.page.get_by_label("手机号").fill(number)
    phone.page.get_by_label("密码").fill("Buyer#2026")
    phone.page.get_by_role("button", name="登录").click()


def shot(phone, tmp_path, label):
    """A full-page picture to look at, in pytest's temporary folder (not the repository)."""
    phone.page.screenshot(path=str(tmp_path / f"{label}.png"), full_page=True)


def test_a_member_opens_my_store_from_me_and_sees_it_whole(phones, tmp_path):
    store = make_store_at(
        "分销商城杭州西湖文化广场旗舰店（二期）",
        address_detail="文三路 100 号黄龙时代广场 B 座一楼 101 室",
        phone="0571-88886666",
    )
    staff = guide(store)
    type(staff.user).objects.filter(pk=staff.user_id).update(nickname="小王")
    buyer = make_buyer()
    scan(buyer, store, staff)

    phone = phones("my-store")
    sign_in(phone, buyer.phone, "/me/")
    entry = phone.page.get_by_test_id("me-my-store")
    assert "分销商城杭州西湖文化广场旗舰店" in entry.inner_text()
    assert phone.page.evaluate(FITS)
    shot(phone, tmp_path, "me")
    entry.click()
    phone.page.wait_for_url("**/me/store/")
    assert phone.page.get_by_test_id("my-store-guide").inner_text() == "小王"
    assert phone.page.get_by_role("link", name="致电门店").get_attribute("href") == "tel:0571-88886666"
    assert phone.page.evaluate(FITS)
    shot(phone, tmp_path, "my-store")

    nobody = phones("my-store-none")
    sign_in(nobody, make_buyer().phone, "/me/store/")
    nobody.page.get_by_test_id("my-store-none").wait_for()
    nobody.page.get_by_role("link", name="去逛逛").wait_for()
    shot(nobody, tmp_path, "my-store-none")


def test_a_guide_sees_their_poster_on_the_store_page(phones, tmp_path):
    store = make_store("西湖店", phone="0571-1", manager=make_buyer())
    staff = guide(store)
    phone = phones("guide-poster")
    sign_in(phone, staff.user.phone, "/store/")
    poster = phone.page.get_by_test_id("store-poster").locator("img.poster")
    poster.scroll_into_view_if_needed()
    phone.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=poster.element_handle())
    assert poster.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [750, 1200]
    assert poster.evaluate("img => img.getBoundingClientRect().right") <= 375
    assert phone.page.evaluate(FITS)
    shot(phone, tmp_path, "guide-poster")
