"""Customer binding: each bind mode, the refusals, the cookie, staff reassignment, the history."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.distribution.models import CustomerBinding, DistributorStatus, Touch
from fenxiao.distribution.services import binding
from fenxiao.testing import api_for, make_buyer, make_product, make_staff, sms_code_for

from .helpers import (
    buy,
    configure,
    current_distributor,
    make_distributor,
    sku,
    suspend,
    travel,
    visit,
)

pytestmark = pytest.mark.django_db

CLOSE = timedelta(minutes=1)


def decisions(buyer) -> list[tuple[int, str, str]]:
    return list(
        Touch.objects.filter(buyer=buyer).order_by("pk").values_list("distributor_id", "decision", "rule")
    )


def test_first_mode_keeps_the_first_distributor_for_good():
    configure(bind_mode="first")
    a, b = make_distributor(), make_distributor()
    buyer = make_buyer()

    first = visit(buyer, a)
    second = visit(buyer, b, source="qr")
    with travel(timedelta(days=400)):
        much_later = visit(buyer, b, source="poster")

    assert (first.decision, first.rule) == ("bound", "first")
    assert (second.decision, second.rule) == ("kept", "first")
    assert "保留原分销商" in second.reason
    assert much_later.decision == "kept"
    assert current_distributor(buyer) == a
    assert CustomerBinding.objects.get(buyer=buyer).expires_at is None


def test_expiring_mode_keeps_within_the_period_then_rebinds():
    configure(bind_mode="expiring", bind_days=30)
    a, b = make_distributor(), make_distributor()
    buyer = make_buyer()

    assert visit(buyer, a).decision == "bound"
    expires = CustomerBinding.objects.get(buyer=buyer).expires_at
    assert abs(expires - (timezone.now() + timedelta(days=30))) < CLOSE

    with travel(timedelta(days=29)):
        kept = visit(buyer, b)
        assert current_distributor(buyer) == a
    assert (kept.decision, kept.rule) == ("kept", "expiring")
    assert "原绑定有效至" in kept.reason

    with travel(timedelta(days=31)):
        assert current_distributor(buyer) is None  # lapsed: the next order earns nobody
        rebound = visit(buyer, b)
        assert current_distributor(buyer) == b
        expires = CustomerBinding.objects.get(buyer=buyer).expires_at
        assert abs(expires - (timezone.now() + timedelta(days=30))) < CLOSE
    assert (rebound.decision, rebound.rule) == ("rebound", "expiring")
    assert "已过期" in rebound.reason


def test_expiring_mode_a_purchase_renews_the_binding():
    configure(bind_mode="expiring", bind_days=30)
    a, b = make_distributor(), make_distributor()
    product = make_product(price=5000)
    buyer = make_buyer()
    visit(buyer, a)

    with travel(timedelta(days=20)):
        buy(buyer, (sku(product), 1))
        # Renewed from the day of the purchase: day 20 + 30 = day 50.
        expires = CustomerBinding.objects.get(buyer=buyer).expires_at
        assert abs(expires - (timezone.now() + timedelta(days=30))) < CLOSE

    with travel(timedelta(days=45)):  # past day 30, the unrenewed expiry
        kept = visit(buyer, b)
        assert current_distributor(buyer) == a
    assert (kept.decision, kept.rule) == ("kept", "expiring")

    with travel(timedelta(days=51)):
        assert visit(buyer, b).decision == "rebound"
        assert current_distributor(buyer) == b


def test_expiring_mode_a_visit_from_the_same_distributor_renews():
    configure(bind_mode="expiring", bind_days=30)
    a = make_distributor()
    buyer = make_buyer()
    visit(buyer, a)
    with travel(timedelta(days=10)):
        renewed = visit(buyer, a)
        expires = CustomerBinding.objects.get(buyer=buyer).expires_at
        assert abs(expires - (timezone.now() + timedelta(days=30))) < CLOSE
    assert (renewed.decision, renewed.rule) == ("renewed", "expiring")


def test_latest_mode_newer_link_wins_outside_the_protection_period():
    configure(bind_mode="latest", protect_days=7)
    a, b, c = make_distributor(), make_distributor(), make_distributor()
    buyer = make_buyer()

    assert visit(buyer, a).decision == "bound"
    protected = visit(buyer, b)
    assert (protected.decision, protected.rule) == ("kept", "latest")
    assert "保护期" in protected.reason
    assert current_distributor(buyer) == a

    with travel(timedelta(days=8)):
        rebound = visit(buyer, b)
        assert current_distributor(buyer) == b
        # b's own protection starts now: c, a day later, does not take the buyer.
    assert (rebound.decision, rebound.rule) == ("rebound", "latest")
    with travel(timedelta(days=9)):
        assert visit(buyer, c).decision == "kept"
        assert current_distributor(buyer) == b
    with travel(timedelta(days=16)):
        assert visit(buyer, c).decision == "rebound"
        assert current_distributor(buyer) == c


# --- switching the bind mode: bindings in force take the new mode, lapsed ones stay lapsed ---


def test_switching_to_expiring_runs_the_period_from_the_switch():
    # Bound under "first" (no expiry) 40 and 10 days before the merchant switches to
    # "expiring after 30 days": both are in force, so both get 30 days from the switch,
    # not from their bind time (which would end the older one at once).
    a, b = make_distributor(), make_distributor()
    old, recent = make_buyer(), make_buyer()
    with travel(-timedelta(days=40)):
        visit(old, a)
    with travel(-timedelta(days=10)):
        visit(recent, a)
    configure(bind_mode="expiring", bind_days=30)
    switched = timezone.now()
    for buyer in (old, recent):
        found = CustomerBinding.objects.get(buyer=buyer)
        assert abs(found.expires_at - (switched + timedelta(days=30))) < CLOSE
    assert visit(old, b).decision == "kept"
    assert current_distributor(old) == a
    with travel(timedelta(days=29)):
        assert current_distributor(recent) == a
    with travel(timedelta(days=31)):
        assert current_distributor(old) is None
        assert visit(old, b).decision == "rebound"
        assert current_distributor(old) == b


def test_switching_expiring_to_latest_bindings_in_force_no_longer_expire():
    # Under "expiring after 30 days" a buyer bound 20 days ago has 10 days left. After the
    # switch to "latest" a binding only ends when a newer link takes the buyer: 15 days on
    # (past the old expiry) the buyer still belongs to a.
    configure(bind_mode="expiring", bind_days=30)
    a, b = make_distributor(), make_distributor()
    buyer, lapsed = make_buyer(), make_buyer()
    with travel(-timedelta(days=20)):
        visit(buyer, a)
    with travel(-timedelta(days=40)):
        visit(lapsed, a)  # ran out 10 days ago
    configure(bind_mode="latest", protect_days=7)
    assert CustomerBinding.objects.get(buyer=buyer).expires_at is None
    with travel(timedelta(days=15)):
        assert current_distributor(buyer) == a
        assert current_distributor(lapsed) is None  # a switch revives nothing
        # The protection window (7 days from the bind, 20 days ago) is over: latest wins.
        assert visit(buyer, b).decision == "rebound"
        assert current_distributor(buyer) == b


def test_switching_expiring_to_first_keeps_lapsed_bindings_lapsed():
    configure(bind_mode="expiring", bind_days=30)
    a, b = make_distributor(), make_distributor()
    in_force, lapsed = make_buyer(), make_buyer()
    with travel(-timedelta(days=10)):
        visit(in_force, a)
    with travel(-timedelta(days=40)):
        visit(lapsed, a)  # ran out 10 days ago
    configure(bind_mode="first")
    # In force: now for good, even a year on and against another link.
    with travel(timedelta(days=365)):
        assert current_distributor(in_force) == a
        assert visit(in_force, b).decision == "kept"
        assert current_distributor(in_force) == a
    # Lapsed before the switch: still nobody's, and the next link binds the buyer for good.
    assert current_distributor(lapsed) is None
    touch = visit(lapsed, b)
    assert (touch.decision, touch.reason) == ("rebound", "原绑定已过期，改绑新分销商")
    assert current_distributor(lapsed) == b
    with travel(timedelta(days=365)):
        assert current_distributor(lapsed) == b


def test_a_lapsed_buyer_back_through_the_same_link_is_bound_again_after_a_switch():
    configure(bind_mode="expiring", bind_days=30)
    a = make_distributor()
    buyer = make_buyer()
    with travel(-timedelta(days=40)):
        visit(buyer, a)
    configure(bind_mode="latest", protect_days=7)
    assert current_distributor(buyer) is None
    assert visit(buyer, a).decision == "rebound"
    assert current_distributor(buyer) == a
    assert CustomerBinding.objects.get(buyer=buyer).expires_at is None


def test_new_buyers_only_does_not_bind_or_rebind_a_buyer_who_has_paid():
    configure(bind_mode="latest", protect_days=0, new_buyers_only=True)
    a, b = make_distributor(), make_distributor()
    product = make_product(price=5000)

    old_customer = make_buyer()
    buy(old_customer, (sku(product), 1))
    refused = visit(old_customer, a)
    assert (refused.decision, refused.rule) == ("refused", "new_buyers_only")
    assert not CustomerBinding.objects.filter(buyer=old_customer).exists()

    newcomer = make_buyer()
    assert visit(newcomer, a).decision == "bound"
    assert visit(newcomer, b).decision == "rebound"  # no paid order yet: the latest link wins
    buy(newcomer, (sku(product), 1))
    kept = visit(newcomer, a)
    assert (kept.decision, kept.rule) == ("kept", "new_buyers_only")
    assert current_distributor(newcomer) == b


def test_a_distributor_cannot_bind_themselves():
    a = make_distributor()
    touch = visit(a.user, a)
    assert (touch.decision, touch.rule) == ("refused", "self")
    assert touch.reason == "分销商不能绑定自己"
    assert not CustomerBinding.objects.filter(buyer=a.user).exists()


def test_a_binding_that_would_close_a_loop_is_refused():
    configure(bind_mode="latest", protect_days=0)
    x = make_distributor()
    y = make_distributor(parent=x)
    z = make_distributor(parent=y)
    outsider = make_distributor()

    for downline in (y, z):
        touch = visit(x.user, downline)
        assert (touch.decision, touch.rule) == ("refused", "loop")
        assert "下级" in touch.reason
    assert not CustomerBinding.objects.filter(buyer=x.user).exists()
    # X may still be bound upwards or sideways.
    assert visit(x.user, outsider).decision == "bound"

    staff = make_staff(perms=["distribution.change_customerbinding"])
    reply = api_for(staff).post(
        "/staff/distribution/bindings", {"buyer_id": x.user_id, "distributor_id": z.pk, "reason": "客户要求"}
    )
    assert reply.status_code == 409
    assert reply.json()["code"] == "DISTRIBUTOR_LOOP_REFUSED"
    assert current_distributor(x.user) == outsider


@pytest.mark.parametrize("status", [DistributorStatus.SUSPENDED, DistributorStatus.BANNED])
def test_an_inactive_distributors_link_does_not_bind(status):
    a = make_distributor(status=status)
    buyer = make_buyer()
    touch = visit(buyer, a)
    assert (touch.decision, touch.rule) == ("refused", "inactive")
    assert not CustomerBinding.objects.filter(buyer=buyer).exists()


def test_a_suspended_distributor_keeps_no_new_buyers_but_others_can_take_them():
    configure(bind_mode="first")
    a, b = make_distributor(), make_distributor()
    suspend(a)
    buyer = make_buyer()
    assert visit(buyer, a).decision == "refused"
    assert visit(buyer, b).decision == "bound"
    assert current_distributor(buyer) == b


def test_anonymous_visit_is_pending_until_registration_then_binds():
    a = make_distributor()
    browser = Client()
    reply = browser.get(f"/r/{a.referral_code.lower()}", {"src": "poster", "to": "/products/"})
    assert reply.status_code == 302 and reply["Location"] == "/products/"
    assert browser.cookies["fx_ref"].value.startswith(f"{a.referral_code}:poster:%2Fproducts%2F:")
    pending = Touch.objects.get(distributor=a)
    assert (pending.buyer, pending.decision, pending.rule, pending.source) == (
        None,
        "pending_login",
        "anonymous",
        "poster",
    )

    registered = browser.post(
        "/api/v1/auth/register",
        {"phone": "13700000001", "password": "Secret#2026", "code": sms_code_for("13700000001")},
        content_type="application/json",
    )
    assert registered.status_code == 201
    buyer_id = registered.json()["user"]["id"]
    bound = CustomerBinding.objects.get(buyer_id=buyer_id)
    assert (bound.distributor, bound.source) == (a, "poster")
    assert browser.cookies["fx_ref"].value == ""  # the cookie's job is done
    assert Touch.objects.filter(distributor=a).count() == 2  # the pending touch is kept


def test_anonymous_visit_binds_on_login():
    a = make_distributor()
    buyer = make_buyer(phone="13700000002")
    browser = Client()
    browser.get(f"/r/{a.referral_code}")
    assert not CustomerBinding.objects.filter(buyer=buyer).exists()
    reply = browser.post(
        "/api/v1/auth/login",
        {"phone": "13700000002", "password": "Buyer#2026"},
        content_type="application/json",
    )
    assert reply.status_code == 200
    assert current_distributor(buyer) == a
    assert decisions(buyer) == [(a.pk, "bound", "first")]


def test_an_external_redirect_target_is_not_followed():
    a = make_distributor()
    reply = Client().get(f"/r/{a.referral_code}", {"to": "https://evil.example/"})
    assert reply["Location"] == "/"


def test_staff_reassignment_needs_a_reason_and_is_recorded():
    configure(bind_mode="first")
    a, b = make_distributor(), make_distributor()
    buyer = make_buyer()
    visit(buyer, a)
    staff = make_staff(perms=["distribution.change_customerbinding"])
    api = api_for(staff)
    path = "/staff/distribution/bindings"

    missing = api.post(path, {"buyer_id": buyer.pk, "distributor_id": b.pk, "reason": ""})
    assert missing.status_code == 422
    assert missing.json()["code"] == "INVALID_INPUT"
    blank = api.post(path, {"buyer_id": buyer.pk, "distributor_id": b.pk, "reason": "   "})
    assert blank.status_code == 400
    assert blank.json() == {"code": "REASON_REQUIRED", "message": "请填写调整原因"}
    nobody = api_for(make_staff()).post(
        path, {"buyer_id": buyer.pk, "distributor_id": b.pk, "reason": "客户要求"}
    )
    assert nobody.status_code == 403
    assert current_distributor(buyer) == a
    assert Touch.objects.filter(buyer=buyer).count() == 1

    done = api.post(
        path, {"buyer_id": buyer.pk, "distributor_id": b.pk, "reason": "原推广员离职，客户转给新推广员"}
    )
    assert done.status_code == 200, done.content
    assert done.json() == {"buyer_id": buyer.pk, "distributor_id": b.pk}
    current = CustomerBinding.objects.get(buyer=buyer)
    assert (current.distributor, current.source) == (b, "manual")
    manual = Touch.objects.filter(buyer=buyer).latest("pk")
    assert (manual.source, manual.decision, manual.rule, manual.staff) == (
        "manual",
        "rebound",
        "manual",
        staff,
    )
    assert manual.reason == "原推广员离职，客户转给新推广员"
    # In first mode the staff decision is as permanent as the first link was.
    assert visit(buyer, a).decision == "kept"
    assert current_distributor(buyer) == b


def test_every_touch_is_kept_with_its_rule_and_reason():
    configure(bind_mode="latest", protect_days=7)
    a, b = make_distributor(), make_distributor()
    buyer = make_buyer()
    anonymous = Client().get(f"/r/{a.referral_code}")
    assert anonymous.status_code == 302
    visit(buyer, a, source="qr")
    visit(buyer, a, source="link")
    visit(buyer, b, source="poster")
    visit(buyer, buyer_distributor := make_distributor(user=buyer))  # themselves
    with travel(timedelta(days=8)):
        visit(buyer, b, source="store")
    binding.reassign(buyer, a, make_staff(), reason="客户投诉")

    assert decisions(buyer) == [
        (a.pk, "bound", "latest"),
        (a.pk, "kept", "latest"),
        (b.pk, "kept", "latest"),
        (buyer_distributor.pk, "refused", "self"),
        (b.pk, "rebound", "latest"),
        (a.pk, "rebound", "manual"),
    ]
    touches = Touch.objects.filter(buyer=buyer).order_by("pk")
    assert [t.source for t in touches] == ["qr", "link", "poster", "link", "store", "manual"]
    assert all(t.reason for t in touches)
    assert Touch.objects.filter(buyer=None, decision="pending_login").count() == 1
