"""Backend: store settings, the store QR page (QR, poster, staff codes), staff by phone."""

import re

import pytest

from fenxiao.distribution.models import Distributor
from fenxiao.stores.models import BindTarget, MemberMode, StoreStaff
from fenxiao.testing import login, make_buyer, make_staff

from .helpers import guide, make_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def test_store_settings_page_saves_the_rules(boss):
    page = boss.get("/backend/stores/storesettings/", follow=True)
    assert page.status_code == 200 and "会员归属门店" in page.content.decode()
    url = page.redirect_chain[-1][0]
    reply = boss.post(
        url, {"member_mode": "latest", "bind_target": "store", "override_binding": "on"}, follow=True
    )
    assert "门店设置已保存" in reply.content.decode()
    from fenxiao.stores.services import membership

    cfg = membership.settings()
    assert (cfg.member_mode, cfg.bind_target, cfg.override_binding) == (
        MemberMode.LATEST,
        BindTarget.STORE,
        True,
    )


def test_store_qr_page_shows_the_qr_poster_and_staff_codes(boss):
    store = make_store("龙井店")
    staff = guide(store)
    page = boss.get(f"/backend/stores/storeqr/{store.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f"/s/{store.code}/" in text and "下载海报" in text and staff.user.display_name in text
    for url in (
        f"/backend/stores/storeqr/{store.pk}/qr.png",
        f"/backend/stores/storeqr/{store.pk}/poster.png",
        f"/backend/stores/storeqr/{store.pk}/staff/{staff.pk}/qr.png",
        f"/backend/stores/storeqr/{store.pk}/staff/{staff.pk}/poster.png",
    ):
        reply = boss.get(url)
        assert reply.status_code == 200 and reply["Content-Type"] == "image/png", url
    listing = boss.get("/backend/stores/storeqr/")
    assert listing.status_code == 200 and "龙井店" in listing.content.decode()


def test_staff_added_by_phone_and_made_a_distributor_in_one_step(boss):
    store = make_store("虎跑店")
    user = make_buyer()
    reply = boss.post(
        "/backend/stores/storestaff/add/",
        {"store": store.pk, "phone": user.phone, "role": "guide", "make_distributor": "on"},
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]
    staff = StoreStaff.objects.get(store=store, user=user)
    assert staff.role == "guide" and staff.code
    # The next step is named: the new guide's code and poster, on the store's QR page.
    listed = boss.get(reply["Location"]).content.decode()
    assert "下一步：员工的导购码和海报在门店码页" in listed
    assert f'href="/backend/stores/storeqr/{store.pk}/change/"' in listed
    assert Distributor.objects.get(user=user).status == Distributor.Status.ACTIVE

    unknown = boss.post(
        "/backend/stores/storestaff/add/", {"store": store.pk, "phone": "13900000000", "role": "guide"}
    )
    assert unknown.status_code == 200 and "没有找到该手机号的用户" in unknown.content.decode()

    other = guide(store, distributor=False)
    boss.post(
        "/backend/stores/storestaff/",
        {"action": "make_distributors", "_selected_action": [other.pk]},
    )
    assert Distributor.objects.get(user=other.user).status == Distributor.Status.ACTIVE
    boss.post("/backend/stores/storestaff/", {"action": "leave", "_selected_action": [other.pk]})
    other.refresh_from_db()
    assert other.is_active is False
    # Again, with one still on staff: only that one is counted, the other said as it is.
    still = guide(store, distributor=False)
    reply = boss.post(
        "/backend/stores/storestaff/",
        {"action": "leave", "_selected_action": [other.pk, still.pk]},
        follow=True,
    )
    said = [str(m) for m in reply.context["messages"]]
    assert said[-2:] == ["已设为离职 1 人", "1 人原本已离职，未改动"]
    assert not StoreStaff.objects.filter(pk__in=[other.pk, still.pk], is_active=True).exists()

    # Added again while still on staff: refused, the role stays (changed on their own page);
    # someone who left comes back with the role chosen now.
    again = boss.post(
        "/backend/stores/storestaff/add/", {"store": store.pk, "phone": user.phone, "role": "manager"}
    )
    assert again.status_code == 200
    assert "已是虎跑店的导购；调整岗位请打开这名员工修改" in again.content.decode()
    assert StoreStaff.objects.get(store=store, user=user).role == "guide"
    back = boss.post(
        "/backend/stores/storestaff/add/", {"store": store.pk, "phone": other.user.phone, "role": "manager"}
    )
    assert back.status_code == 302
    other.refresh_from_db()
    assert (other.is_active, other.role) == (True, "manager")


def test_the_add_staff_page_shows_a_phone_box_and_a_switch(boss):
    """员工手机号 and 同时设为分销商 are the form's own fields: without the backend's widgets
    the phone box rendered with no border, an empty space beside its label."""
    page = boss.get("/backend/stores/storestaff/add/").content.decode()
    phone = re.search(r'<input[^>]*name="phone"[^>]*>', page).group()
    switch = re.search(r'<input[^>]*name="make_distributor"[^>]*>', page).group()
    assert "border" in phone, phone
    assert "class=" in switch, switch


def test_the_qr_page_lists_the_manager_first_and_its_posters_read_as_links(boss):
    store = make_store("虎跑店")
    helper = guide(store)
    manager = guide(store, role="manager")
    page = boss.get(f"/backend/stores/storeqr/{store.pk}/change/").content.decode()
    assert page.index(f"/staff/{manager.pk}/poster.png") < page.index(f"/staff/{helper.pk}/poster.png")
    posters = re.findall(r'<a [^>]*href="[^"]*poster\.png"[^>]*>', page)
    assert len(posters) == 3 and all("text-primary-600" in a for a in posters), posters
    listing = boss.get("/backend/stores/storeqr/").content.decode()
    assert all("text-primary-600" in a for a in re.findall(r'<a [^>]*href="[^"]*poster\.png"[^>]*>', listing))


def test_a_downloaded_poster_is_named_by_its_store_and_person(boss):
    """A chain prints dozens of posters; store-URY5XM-FPGQVKV7.png said whose none was."""
    from urllib.parse import quote

    store = make_store("龙井店")
    staff = guide(store)
    staff.user.nickname = "小林"
    staff.user.save(update_fields=["nickname"])
    reply = boss.get(f"/backend/stores/storeqr/{store.pk}/poster.png")
    assert quote(f"龙井店-门店码海报-{store.code}.png") in reply["Content-Disposition"]
    reply = boss.get(f"/backend/stores/storeqr/{store.pk}/staff/{staff.pk}/poster.png")
    assert quote(f"龙井店-导购小林-导购码海报-{staff.code}.png") in reply["Content-Disposition"]
    assert reply["Content-Disposition"].startswith("attachment;")
    # The list's QR column is named apart from the 门店码 column beside it.
    listing = boss.get("/backend/stores/storeqr/").content.decode()
    assert "门店二维码" in listing
