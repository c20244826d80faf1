"""Browser: a shopper scans a 导购's store QR, signs in and is the store's member; the
店长 opens the store page and sees them."""

import pytest

from fenxiao.stores.models import BindTarget, StoreMember
from fenxiao.testing import make_buyer

from .helpers import guide, make_store, store_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(phone, number: str, password: str = "Buyer#2026"):
    phone.page.get_by_label("手机号").fill(number)
    phone.page.get_by_label("密码").fill(password)
    phone.page.get_by_role("button", name="登录").click()


def test_scan_a_guides_store_qr_then_the_manager_sees_the_member(phones):
    store_settings(bind_target=BindTarget.STAFF)
    manager = make_buyer()
    store = make_store("西湖旗舰店", manager=manager)
    from fenxiao.stores.services import staff as staff_service

    staff_service.add(store, manager.phone, "manager")
    staff = guide(store)
    shopper = make_buyer()

    phone = phones("store-qr")
    phone.page.goto(f"/s/{store.code}/{staff.code}/")
    phone.page.get_by_role("button", name="登录").wait_for()
    sign_in(phone, shopper.phone)
    phone.page.get_by_text("您已成为西湖旗舰店会员").wait_for()
    phone.shot("joined")
    assert StoreMember.objects.get(buyer=shopper).staff == staff

    desk = phones("store-page")
    desk.page.goto("/login/?next=/store/")
    sign_in(desk, manager.phone)
    desk.page.get_by_text("导购业绩").wait_for()
    assert desk.page.locator("#members").inner_text() == "1"
    # The 导购 comes first, then the 店长.
    assert "会员 1 · 订单 0" in desk.page.locator(".guide").first.inner_text()
    desk.shot("manager")
