"""Store QR codes: membership (first / latest store) and binding under each bind mode."""

import pytest
from django.test import Client

from fenxiao.distribution.models import Touch, TouchDecision, TouchSource
from fenxiao.distribution.tests.helpers import bound_buyer, configure, current_distributor, make_distributor
from fenxiao.stores.models import BindTarget, MemberMode, StoreMember
from fenxiao.testing import make_buyer

from .helpers import guide, make_store, scan, store_settings

pytestmark = pytest.mark.django_db


def memberships(buyer):
    return {(m.store.name, m.source, m.is_current) for m in StoreMember.objects.filter(buyer=buyer)}


def test_store_qr_binds_to_the_store_account_made_from_its_manager():
    store_settings(bind_target=BindTarget.STORE)
    store = make_store("西湖店", manager=make_buyer())
    buyer = make_buyer()

    scan(buyer, store)

    store.refresh_from_db()
    assert store.distributor is not None and store.distributor.user_id == store.manager_id
    assert current_distributor(buyer) == store.distributor
    assert memberships(buyer) == {("西湖店", "store_qr", True)}
    touch = Touch.objects.get(buyer=buyer)
    assert (touch.source, touch.decision) == (TouchSource.STORE, TouchDecision.BOUND)


def test_staff_qr_binds_to_the_guide_in_staff_mode_and_to_the_store_in_store_mode():
    store = make_store("滨江店", manager=make_buyer())
    staff = guide(store)
    store_settings(bind_target=BindTarget.STAFF)
    first = make_buyer()
    scan(first, store, staff)
    assert current_distributor(first).user_id == staff.user_id
    assert StoreMember.objects.get(buyer=first).staff == staff
    assert StoreMember.objects.get(buyer=first).source == "staff_qr"

    store_settings(bind_target=BindTarget.STORE)
    second = make_buyer()
    scan(second, store, staff)
    assert current_distributor(second).user_id == store.manager_id
    # Still the guide's member: the guide looks after them, the store earns.
    assert StoreMember.objects.get(buyer=second).staff == staff


def test_a_guide_who_is_not_a_distributor_brings_the_buyer_to_the_store():
    store = make_store(manager=make_buyer())
    staff = guide(store, distributor=False)
    store_settings(bind_target=BindTarget.STAFF)
    buyer = make_buyer()
    scan(buyer, store, staff)
    assert current_distributor(buyer).user_id == store.manager_id


def test_membership_only_mode_binds_nobody():
    store_settings(bind_target=BindTarget.NONE)
    store = make_store(manager=make_buyer())
    buyer = make_buyer()
    scan(buyer, store)
    assert current_distributor(buyer) is None
    assert StoreMember.objects.filter(buyer=buyer, store=store, is_current=True).exists()


def test_an_existing_binding_is_kept_unless_the_store_may_override_it():
    configure(bind_mode="latest", protect_days=0)
    store = make_store(manager=make_buyer())
    store_settings(bind_target=BindTarget.STORE, override_binding=False)
    other = make_distributor()
    buyer = bound_buyer(other)

    scan(buyer, store)
    assert current_distributor(buyer) == other
    kept = Touch.objects.filter(buyer=buyer).latest("pk")
    assert (kept.decision, kept.rule) == (TouchDecision.KEPT, "store_keep")
    assert StoreMember.objects.filter(buyer=buyer, store=store).exists()  # still a member

    store_settings(override_binding=True)
    scan(buyer, store)
    store.refresh_from_db()
    assert current_distributor(buyer) == store.distributor  # latest binding wins under the rules


def test_override_still_obeys_the_shops_first_binding_rule():
    configure(bind_mode="first")
    store = make_store(manager=make_buyer())
    store_settings(bind_target=BindTarget.STORE, override_binding=True)
    other = make_distributor()
    buyer = bound_buyer(other)
    scan(buyer, store)
    assert current_distributor(buyer) == other
    assert Touch.objects.filter(buyer=buyer).latest("pk").decision == TouchDecision.KEPT


def test_first_store_keeps_the_buyer_latest_store_moves_them():
    store_settings(member_mode=MemberMode.FIRST, bind_target=BindTarget.NONE)
    a, b = make_store("甲店"), make_store("乙店")
    buyer = make_buyer()
    scan(buyer, a)
    scan(buyer, b)
    assert memberships(buyer) == {("甲店", "store_qr", True)}

    store_settings(member_mode=MemberMode.LATEST)
    scan(buyer, b)
    assert memberships(buyer) == {("甲店", "store_qr", False), ("乙店", "store_qr", True)}
    scan(buyer, a)
    assert memberships(buyer) == {("甲店", "store_qr", True), ("乙店", "store_qr", False)}


def test_a_visitor_signs_in_first_and_is_bound_on_coming_back():
    store_settings(bind_target=BindTarget.STORE)
    store = make_store(manager=make_buyer())
    reply = Client().get(f"/s/{store.code}/")
    assert reply.status_code == 302
    assert reply["Location"] == f"/login/?next=%2Fs%2F{store.code}%2F"


def test_unknown_codes_are_not_found():
    assert Client().get("/s/NOPE42/").status_code == 404
    open_store = make_store()
    assert Client().get(f"/s/{open_store.code}/WRONGCODE/").status_code == 404


def test_a_closed_stores_qr_says_it_closed_and_opens_the_shop_joining_nobody():
    # Its posters still hang in the street and sit in chats: 页面不存在 would say the link
    # is wrong, where the store has closed.
    store = make_store("湖滨店", manager=make_buyer(), is_open=False)
    staff = guide(store)
    buyer = make_buyer()
    browser = Client()
    browser.force_login(buyer)
    for path in (f"/s/{store.code}/", f"/s/{store.code}/{staff.code}/"):
        reply = browser.get(path, follow=True)
        assert reply.redirect_chain == [("/", 302)]
        assert "湖滨店已停止营业，欢迎在线选购" in reply.content.decode()
    assert not StoreMember.objects.filter(buyer=buyer).exists()
    assert Client().get(f"/s/{store.code}/").status_code == 302  # a visitor too, without signing in
    from fenxiao.testing import api_for

    refused = api_for(buyer).post("/stores/join", {"store_code": store.code})
    assert refused.status_code == 404 and refused.json()["code"] == "STORE_NOT_FOUND"


def test_a_guide_who_left_hands_their_buyers_to_the_store():
    # A 导购's poster outlives their job: scanning it joins the store (store QR) and binds
    # to the store, not to a guide who no longer looks after anyone, and no 404.
    store_settings(bind_target=BindTarget.STAFF)
    store = make_store("滨江店", manager=make_buyer())
    staff = guide(store)
    from fenxiao.stores.services import staff as staff_service

    staff_service.remove(staff)
    buyer = make_buyer()
    reply = scan(buyer, store, staff)
    assert reply["Location"] == "/"
    member = StoreMember.objects.get(buyer=buyer)
    assert (member.store, member.source, member.staff) == (store, "store_qr", None)
    store.refresh_from_db()
    assert current_distributor(buyer) == store.distributor and store.distributor.user_id == store.manager_id


def test_store_qr_and_poster_are_png_pointing_at_the_store():
    from fenxiao.stores.services import qr

    store = make_store("武林店")
    staff = guide(store)
    assert qr.store_url(store).endswith(f"/s/{store.code}/")
    assert qr.store_url(store, staff).endswith(f"/s/{store.code}/{staff.code}/")
    assert qr.store_qr_png(store).startswith(b"\x89PNG")
    assert qr.poster_png(store, staff).startswith(b"\x89PNG")


def test_store_qr_visit_is_counted_with_source_store_and_binds_after_sign_in():
    from fenxiao.analytics.models import VisitorDay
    from fenxiao.distribution.tests.helpers import current_distributor

    store_settings(bind_target=BindTarget.STAFF)
    store = make_store(manager=make_buyer())
    staff = guide(store)
    buyer = make_buyer(password="Buyer#2026")
    browser = Client()
    landing = browser.get(f"/s/{store.code}/{staff.code}/")
    assert landing.status_code == 302 and landing["Location"].startswith("/login/?next=")
    row = VisitorDay.objects.get()
    assert (row.source, row.distributor_id) == ("store", staff.user.distributor.pk)

    signed_in = browser.post(landing["Location"], {"phone": buyer.phone, "password": "Buyer#2026"})
    assert signed_in["Location"] == f"/s/{store.code}/{staff.code}/"
    back = browser.get(signed_in["Location"], follow=True)
    assert back.status_code == 200 and "您已成为" in back.content.decode()
    assert current_distributor(buyer).user_id == staff.user_id
    assert StoreMember.objects.get(buyer=buyer).staff == staff


def test_with_member_distributor_on_a_scan_makes_the_buyer_a_distributor_in_the_guides_team():
    from fenxiao.distribution.models import Distributor, DistributorStatus, JoinSource
    from fenxiao.distribution.services import distributors

    store = make_store("湖滨店", manager=make_buyer())
    staff = guide(store)
    store_settings(bind_target=BindTarget.STAFF, member_distributor=True)
    buyer, rejected = make_buyer(), make_buyer()
    configure(enable_mode="apply", review_mode="manual", require_real_name=False)
    distributors.reject(distributors.apply(rejected), None, reason="资料不全")

    reply = scan(buyer, store, staff)
    scan(rejected, store, staff)

    assert reply["Location"] == "/d/"  # straight to the distributor center
    made = Distributor.objects.get(user=buyer)
    assert (made.status, made.source, made.parent.user_id) == (
        DistributorStatus.ACTIVE,
        JoinSource.STORE,
        staff.user_id,
    )
    assert made.totals is not None
    assert Distributor.objects.get(user=rejected).status == DistributorStatus.REJECTED  # not let in
    assert memberships(buyer) == {("湖滨店", "staff_qr", True)}

    store_settings(member_distributor=False)
    other = make_buyer()
    assert scan(other, store, staff)["Location"] == "/"
    assert not Distributor.objects.filter(user=other).exists()
