"""The tracking sandbox, end to end through the signed callback: its pushes build the
parcel's trail (揽收 → 运输中 → 派件 → 签收), bad signatures are refused with nothing
stored, duplicates change nothing, "signed for" moves the auto-complete date by the rule
and the sweep then completes the order; a subscription whose worker died is re-sent."""

import json
import urllib.parse
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.orders.logistics.base import sign
from fenxiao.orders.models import (
    OrderEvent,
    OrderSettings,
    OrderStatus,
    Parcel,
    SandboxWaybill,
    TrackingEvent,
    TrackingSubscription,
)
from fenxiao.orders.services import shipments, sweeps, tracking
from fenxiao.testing import assert_refused, make_staff

from .logistics_helpers import paid_order

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """A worker stopped by SIGTERM mid-call: not an error the code could catch."""


def shipped(quantities=(1,), **ship):
    order = paid_order(quantities)
    parcel = shipments.ship_parcel(
        order, make_staff(), carrier=ship.get("carrier", "顺丰"), tracking_number=ship.get("number", "SF100")
    )
    return parcel.order, parcel


def waybill_of(parcel) -> SandboxWaybill:
    return SandboxWaybill.objects.get(callback_url__endswith=f"/{parcel.subscription.pk}")


def deliver_all(sandbox, waybill):
    return [sandbox.push(waybill.pk) for _ in sandbox.STEPS]


def callback_path(subscription) -> str:
    return f"/api/v1/logistics/callback/{subscription.provider}/{subscription.pk}"


def post_form(path, body: bytes):
    return Client().post(path, body, content_type="application/x-www-form-urlencoded")


def test_signed_pushes_build_the_trail_and_signing_starts_the_countdown(pushes_in_process):
    order, parcel = shipped()
    ship_deadline = order.auto_complete_at
    sub = TrackingSubscription.objects.get(parcel=parcel)
    assert sub.status == "subscribed"

    assert deliver_all(pushes_in_process, waybill_of(parcel)) == [True] * 5
    parcel.refresh_from_db()
    assert parcel.tracking_state == "signed" and parcel.signed_at is not None
    trail = list(TrackingEvent.objects.filter(parcel=parcel).values_list("state", flat=True))
    assert trail == ["signed", "delivering", "in_transit", "in_transit", "collected"]  # newest first
    assert "杭州市" in TrackingEvent.objects.filter(parcel=parcel).first().context

    order.refresh_from_db()
    days = OrderSettings.current().signed_auto_complete_days
    assert order.auto_complete_at == parcel.signed_at + timedelta(days=days)
    assert order.auto_complete_at < ship_deadline
    signed_log = OrderEvent.objects.get(order=order, kind="parcel_signed")
    assert "全部包裹已签收" in signed_log.message and "自动确认收货" in signed_log.message

    # Not due yet before the signing countdown ends; completed by the sweep after it.
    assert sweeps.auto_complete_orders(now=order.auto_complete_at - timedelta(minutes=1)) == 0
    assert sweeps.auto_complete_orders(now=order.auto_complete_at + timedelta(minutes=1)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_a_signing_never_moves_the_date_past_the_ship_time_countdown(pushes_in_process):
    settings = OrderSettings.current()
    settings.signed_auto_complete_days = 30  # longer than auto_complete_days (7)
    settings.save()
    order, parcel = shipped()
    ship_deadline = order.auto_complete_at
    deliver_all(pushes_in_process, waybill_of(parcel))
    order.refresh_from_db()
    assert order.auto_complete_at == ship_deadline


def test_the_countdown_waits_for_every_parcel(pushes_in_process):
    order = paid_order((1, 1))
    first, second = order.lines.all()
    staff = make_staff()
    one = shipments.ship_parcel(order, staff, carrier="顺丰", tracking_number="SF1", lines={first.pk: 1})
    deliver_all(pushes_in_process, waybill_of(one))  # signed while the order is still 部分发货
    two = shipments.ship_parcel(order, staff, carrier="中通", tracking_number="ZT2")
    order.refresh_from_db()
    ship_deadline = order.auto_complete_at
    assert order.status == OrderStatus.SHIPPED

    waybill = waybill_of(two)
    for _ in range(4):  # up to 派件
        pushes_in_process.push(waybill.pk)
    order.refresh_from_db()
    assert order.auto_complete_at == ship_deadline
    pushes_in_process.push(waybill.pk)  # 签收
    order.refresh_from_db()
    two.refresh_from_db()
    assert order.auto_complete_at == two.signed_at + timedelta(days=3)


def test_bad_signatures_are_refused_and_store_nothing(pushes_in_process):
    order, parcel = shipped()
    other_order, other_parcel = shipped(number="SF200")
    waybill = waybill_of(parcel)
    pushes_in_process._advance(waybill)
    good = urllib.parse.parse_qs(pushes_in_process.build_push(waybill).decode())
    param = good["param"][0]
    path = callback_path(parcel.subscription)

    forged = [
        {"param": param, "sign": "0" * 64},
        {"param": param, "sign": ""},
        {"param": param},
        {"param": param, "sign": sign(other_parcel.subscription.salt, param)},  # another parcel's salt
        {"param": param, "sign": sign("", param)},  # no key at all
        {"param": param.replace("揽收", "签收"), "sign": good["sign"][0]},  # altered after signing
    ]
    for form in forged:
        assert_refused(
            post_form(path, urllib.parse.urlencode(form).encode()), 400, "TRACKING_SIGNATURE_INVALID"
        )
    assert_refused(
        post_form(
            callback_path(parcel.subscription).replace(f"/{parcel.subscription.pk}", "/999999"), b"a=1"
        ),
        404,
        "TRACKING_SUBSCRIPTION_NOT_FOUND",
    )
    # Signed correctly but about another waybill: refused too.
    other = json.loads(param)
    other["lastResult"]["nu"] = "SF200"
    other_param = json.dumps(other, ensure_ascii=False)
    assert_refused(
        post_form(
            path,
            urllib.parse.urlencode({"param": other_param, "sign": sign(waybill.salt, other_param)}).encode(),
        ),
        400,
        "TRACKING_WAYBILL_MISMATCH",
    )
    assert not TrackingEvent.objects.exists()
    parcel.refresh_from_db()
    assert parcel.tracking_state == "waiting"

    reply = post_form(path, pushes_in_process.build_push(waybill))
    assert reply.status_code == 200 and reply.json()["result"] is True
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 1
    assert other_order.pk != order.pk


def test_duplicate_and_replayed_pushes_change_nothing(pushes_in_process):
    order, parcel = shipped()
    waybill = waybill_of(parcel)
    for _ in range(2):
        pushes_in_process.push(waybill.pk)
    waybill.refresh_from_db()
    early = pushes_in_process.build_push(waybill)  # the trail as of 运输中
    for _ in range(3):
        pushes_in_process.push(waybill.pk)
    waybill.refresh_from_db()
    final = pushes_in_process.build_push(waybill)
    parcel.refresh_from_db()
    order.refresh_from_db()
    before = (
        TrackingEvent.objects.count(),
        OrderEvent.objects.filter(order=order).count(),
        parcel.tracking_state,
        parcel.signed_at,
        order.auto_complete_at,
    )

    for body in (final, final, early):
        reply = post_form(callback_path(parcel.subscription), body)
        assert reply.status_code == 200 and reply.json()["added"] == 0
    parcel.refresh_from_db()
    order.refresh_from_db()
    after = (
        TrackingEvent.objects.count(),
        OrderEvent.objects.filter(order=order).count(),
        parcel.tracking_state,
        parcel.signed_at,
        order.auto_complete_at,
    )
    assert after == before and parcel.tracking_state == "signed"


def test_a_subscription_whose_worker_died_is_sent_again_by_the_sweeper(monkeypatch):
    from fenxiao.orders.logistics.sandbox import SandboxTracking

    real = SandboxTracking.subscribe

    def killed(self, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(SandboxTracking, "subscribe", killed)
    order = paid_order((1,))
    with pytest.raises(WorkerKilled):
        shipments.ship_parcel(order, make_staff(), carrier="顺丰", tracking_number="SF1")
    sub = TrackingSubscription.objects.get()
    assert (sub.status, sub.attempts) == ("sending", 1)
    assert Parcel.objects.get().order.status == OrderStatus.SHIPPED  # the parcel itself is kept

    monkeypatch.setattr(SandboxTracking, "subscribe", real)
    now = timezone.now()
    assert tracking.sweep_subscriptions(now + timedelta(minutes=1)) == 0  # still within its deadline
    assert tracking.sweep_subscriptions(now + timedelta(minutes=3)) == 1
    sub.refresh_from_db()
    assert (sub.status, sub.attempts) == ("subscribed", 2)
    assert SandboxWaybill.objects.count() == 1
    assert tracking.sweep_subscriptions(now + timedelta(minutes=10)) == 0  # nothing left to do


def test_a_refused_subscription_fails_without_retrying():
    order, parcel = shipped(carrier="其他", number="X1")
    sub = TrackingSubscription.objects.get(parcel=parcel)
    assert sub.status == "failed" and "不支持" in sub.last_error
    assert tracking.sweep_subscriptions(timezone.now() + timedelta(hours=1)) == 0


def test_the_order_page_and_api_show_the_trail_in_a_fixed_number_of_queries(pushes_in_process):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fenxiao.testing import api_for, login

    def shipped_with(parcels: int, steps: int):
        order = paid_order((1,) * parcels)
        staff = make_staff()
        for i, line in enumerate(order.lines.all()):
            parcel = shipments.ship_parcel(
                order, staff, carrier="顺丰", tracking_number=f"SF{order.pk}{i}", lines={line.pk: 1}
            )
            for _ in range(steps):
                pushes_in_process.push(waybill_of(parcel).pk)
        return order

    def count(order):
        client, api = login(order.buyer), api_for(order.buyer)
        client.get(f"/orders/{order.number}/")  # warm the session and settings rows
        with CaptureQueriesContext(connection) as page:
            reply = client.get(f"/orders/{order.number}/")
        with CaptureQueriesContext(connection) as detail:
            body = api.get(f"/orders/{order.number}").json()
        return len(page), len(detail), reply.content.decode(), body

    small = count(shipped_with(1, 1))
    large = count(shipped_with(4, 5))
    assert large[0] == small[0] and large[1] == small[1], (small[:2], large[:2])
    page, body = large[2], large[3]
    assert page.count('data-testid="parcel"') == 4 and page.count('data-testid="trail-item"') == 20
    assert [e["state_display"] for e in body["parcels"][0]["trail"]] == [
        "已签收",
        "派件中",
        "运输中",
        "运输中",
        "已揽收",
    ]


def test_callbacks_to_unknown_places_are_refused():
    assert post_form("/api/v1/logistics/callback/sandbox/99999999999999999999999", b"a=1").status_code == 422
    assert_refused(
        post_form("/api/v1/logistics/callback/kuaidi999/1", b"a=1"), 404, "TRACKING_SUBSCRIPTION_NOT_FOUND"
    )
    assert_refused(
        post_form("/api/v1/logistics/callback/sandbox/1", b"param=%7B"),
        404,
        "TRACKING_SUBSCRIPTION_NOT_FOUND",
    )
