"""Kuaidi100's subscription API against a local stand-in: what the mall subscribes with,
how each answer is taken, and pushes signed MD5(param + salt) as Kuaidi100 signs them."""

import hashlib
import json
import urllib.parse

import pytest
from django.core.checks import run_checks
from django.test import Client

from fenxiao.orders.models import Parcel, TrackingEvent, TrackingSubscription
from fenxiao.orders.services import shipments, tracking
from fenxiao.testing import LocalProvider, assert_refused, make_staff

from .logistics_helpers import paid_order

pytestmark = pytest.mark.django_db

KEY = "kuaidi100-customer-key"


class FakeKuaidi100(LocalProvider):
    """The 订阅推送 endpoint: checks the key, remembers each subscription, answers as told."""

    def __init__(self):
        self.subscriptions: list[dict] = []
        self.answer_with = {"result": True, "returnCode": "200", "message": "提交成功"}
        self.start()

    def answer(self, method, path, headers, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        param = json.loads(form["param"])
        waybill = (param.get("company"), param.get("number"))
        if form.get("schema") != "json" or param.get("key") != KEY:
            answer = {"result": False, "returnCode": "600", "message": "您不是合法的订阅者"}
        elif any((s["company"], s["number"]) == waybill for s in self.subscriptions):
            # Followed already: the new request (and its callback) is ignored.
            answer = {"result": False, "returnCode": "501", "message": "重复订阅"}
        else:
            if self.answer_with["returnCode"] == "200":
                self.subscriptions.append(param)
            answer = self.answer_with
        return 200, {}, json.dumps(answer, ensure_ascii=False).encode()

    @property
    def endpoint(self) -> str:
        return self.base + "/poll"

    def push(
        self,
        subscription: dict,
        states: list[tuple[str, str]],
        *,
        salt: str | None = None,
        codes=True,
        **extra,
    ):
        """Kuaidi100 pushes the whole trail (newest first) to the subscription's callback,
        each line with its advanced state code (resultv2=4) unless `codes` is False."""
        data = [
            {
                "context": context,
                "time": f"2026-12-0{3 + i} 10:00:00",
                "ftime": f"2026-12-0{3 + i} 10:00:00",
                "status": "在途",
                **({"statusCode": code} if codes else {}),
                "areaName": "广东省,深圳市",
            }
            for i, (code, context) in enumerate(states)
        ][::-1]
        param = json.dumps(
            {
                "status": "polling",
                "billstatus": "got",
                "message": "",
                **extra,
                "lastResult": {
                    "message": "ok",
                    "state": states[-1][0],
                    "status": "200",
                    "ischeck": "1" if states[-1][0] == "3" else "0",
                    "com": extra.get("comNew") or subscription["company"],
                    "nu": subscription["number"],
                    "data": data,
                },
            },
            ensure_ascii=False,
        )
        salt = subscription["parameters"]["salt"] if salt is None else salt
        sign = hashlib.md5((param + salt).encode()).hexdigest().upper()
        path = urllib.parse.urlsplit(subscription["parameters"]["callbackurl"]).path
        body = urllib.parse.urlencode({"param": param, "sign": sign})
        return Client().post(path, body, content_type="application/x-www-form-urlencoded")


@pytest.fixture(scope="module")
def kuaidi100():
    fake = FakeKuaidi100()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def tracking_by_kuaidi100(settings, kuaidi100):
    kuaidi100.subscriptions.clear()
    kuaidi100.answer_with = {"result": True, "returnCode": "200", "message": "提交成功"}
    settings.LOGISTICS_PROVIDER = "kuaidi100"
    settings.KUAIDI100 = {"KEY": KEY, "ENDPOINT": kuaidi100.endpoint}
    settings.SITE_URL = "https://shop.example.com"


def ship(number="SF1234567890", carrier="顺丰") -> Parcel:
    order = paid_order((1,))
    return shipments.ship_parcel(order, make_staff(), carrier=carrier, tracking_number=number)


def test_a_shipped_parcel_is_subscribed_with_its_callback_salt_and_recipient(kuaidi100):
    parcel = ship()

    [sent] = kuaidi100.subscriptions
    sub = TrackingSubscription.objects.get(parcel=parcel)
    assert sub.status == "subscribed" and sub.provider == "kuaidi100"
    assert (sent["company"], sent["number"], sent["key"]) == ("shunfeng", "SF1234567890", KEY)
    assert sent["parameters"]["callbackurl"] == (
        f"https://shop.example.com/api/v1/logistics/callback/kuaidi100/{sub.pk}"
    )
    assert sent["parameters"]["salt"] == sub.salt and len(sub.salt) >= 16
    assert sent["parameters"]["phone"] == parcel.order.recipient_phone
    assert sent["to"] == parcel.order.city


def test_kuaidi100s_signed_pushes_build_the_trail(kuaidi100):
    parcel = ship()
    [sent] = kuaidi100.subscriptions

    first = kuaidi100.push(sent, [("103", "【深圳市】顺丰速运 已揽收")])
    later = kuaidi100.push(
        sent,
        [
            ("103", "【深圳市】顺丰速运 已揽收"),
            ("1002", "快件已发往 杭州"),
            ("301", "快件已签收，签收人：本人"),
        ],
    )

    assert first.status_code == later.status_code == 200 and later.json()["returnCode"] == "200"
    assert later.json()["added"] == 2
    parcel.refresh_from_db()
    assert parcel.tracking_state == "signed" and parcel.signed_at is not None
    trail = TrackingEvent.objects.filter(parcel=parcel).order_by("occurred_at")
    assert list(trail.values_list("state", flat=True)) == ["collected", "in_transit", "signed"]
    assert parcel.signed_at == trail.last().occurred_at
    assert sent["parameters"]["resultv2"] == "4"


def test_a_waybill_kuaidi100_stops_following_says_why_and_can_be_subscribed_again(kuaidi100):
    ship()
    [sent] = kuaidi100.subscriptions
    first = [("103", "【深圳市】顺丰速运 已揽收")]
    stopped = kuaidi100.push(sent, first, status="abort", message="3天查询无记录")
    assert stopped.status_code == 200 and stopped.json()["returnCode"] == "200"
    sub = TrackingSubscription.objects.get()
    assert sub.status == "stopped" and sub.last_error == "已停止跟踪：3天查询无记录"
    assert TrackingEvent.objects.count() == 1  # what it did push is kept
    # An older push arriving late does not undo the stop.
    kuaidi100.push(sent, first)
    sub.refresh_from_db()
    assert sub.status == "stopped"

    kuaidi100.subscriptions.clear()  # Kuaidi100 follows the waybill no more
    tracking.retry_subscription(sub)  # staff checked the waybill
    sub.refresh_from_db()
    [again] = kuaidi100.subscriptions
    assert sub.status == "subscribed" and again["parameters"]["salt"] != sent["parameters"]["salt"]
    # The stop captured before cannot be replayed against the new subscription.
    replayed = kuaidi100.push(sent, first, status="abort", message="3天查询无记录")
    assert replayed.status_code != 200
    kuaidi100.push(again, [*first, ("1002", "快件已发往 杭州")])
    sub.refresh_from_db()
    assert sub.status == "subscribed" and TrackingEvent.objects.count() == 2


def test_a_stop_on_a_shared_waybill_shows_on_every_order(kuaidi100):
    ship("SF5550001", "顺丰")
    ship("SF5550001", "顺丰")
    [sent] = kuaidi100.subscriptions  # the second was answered 501: followed already
    kuaidi100.push(sent, [("103", "已揽收")], status="abort", message="60天无变化")
    first, second = TrackingSubscription.objects.order_by("pk")
    assert (first.status, second.status) == ("stopped", "stopped")
    # Followed again: the waybill's pushes bring every parcel under it back.
    kuaidi100.subscriptions.clear()
    tracking.retry_subscription(first)
    [again] = kuaidi100.subscriptions
    kuaidi100.push(again, [("103", "已揽收"), ("1002", "快件已发往 杭州")])
    assert [s.status for s in TrackingSubscription.objects.order_by("pk")] == ["subscribed", "subscribed"]


def test_lines_without_their_own_code_do_not_date_the_signing_back(kuaidi100):
    parcel = ship()
    [sent] = kuaidi100.subscriptions
    states = [("1", "已揽收"), ("0", "运输中"), ("3", "已签收")]

    kuaidi100.push(sent, states, codes=False)

    trail = TrackingEvent.objects.filter(parcel=parcel).order_by("occurred_at")
    assert list(trail.values_list("state", flat=True)) == ["in_transit", "in_transit", "signed"]
    parcel.refresh_from_db()
    assert parcel.signed_at == trail.last().occurred_at


def test_one_waybill_for_two_orders_gives_both_parcels_the_trail(kuaidi100):
    first, second = ship("SF777"), ship("SF777")  # 合并发货: two orders in one box

    # Kuaidi100 follows the waybill once; the second subscription is "already subscribed".
    assert [s.status for s in TrackingSubscription.objects.order_by("pk")] == ["subscribed", "subscribed"]
    [sent] = kuaidi100.subscriptions
    kuaidi100.push(sent, [("103", "已揽收"), ("301", "已签收")])

    for parcel in (first, second):
        parcel.refresh_from_db()
        assert parcel.tracking_state == "signed"
        assert TrackingEvent.objects.filter(parcel=parcel).count() == 2


def test_a_carrier_kuaidi100_corrected_is_still_the_parcels_trail(kuaidi100):
    parcel = ship("YT123", carrier="顺丰")  # the merchant picked the wrong carrier
    [sent] = kuaidi100.subscriptions
    answer = kuaidi100.push(
        sent, [("103", "【杭州市】圆通速递 已揽收")], autoCheck="1", comOld="shunfeng", comNew="yuantong"
    )
    assert answer.status_code == 200
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 1


def test_a_push_not_signed_with_the_parcels_salt_is_refused_and_stores_nothing(kuaidi100):
    parcel = ship()
    [sent] = kuaidi100.subscriptions

    forged = kuaidi100.push(sent, [("3", "快件已签收")], salt="guessed-salt")

    assert_refused(forged, 400, "TRACKING_SIGNATURE_INVALID")
    assert not TrackingEvent.objects.filter(parcel=parcel).exists()


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"result": False, "returnCode": "501", "message": "重复订阅"}, "subscribed"),
        ({"result": False, "returnCode": "702", "message": "识别不到该单号对应的快递公司"}, "failed"),
        ({"result": False, "returnCode": "700", "message": "不支持的快递公司"}, "failed"),
        ({"result": False, "returnCode": "500", "message": "服务器错误"}, "pending"),
    ],
)
def test_each_answer_is_taken_as_kuaidi100_means_it(kuaidi100, answer, status):
    kuaidi100.answer_with = answer
    sub = TrackingSubscription.objects.get(parcel=ship())
    assert sub.status == status
    if status != "subscribed":
        assert answer["returnCode"] in sub.last_error


def test_a_wrong_key_or_no_answer_is_tried_again(settings):
    settings.KUAIDI100 = {**settings.KUAIDI100, "KEY": "wrong"}
    sub = TrackingSubscription.objects.get(parcel=ship("SF1"))
    assert sub.status == "pending" and "600" in sub.last_error

    settings.KUAIDI100 = {**settings.KUAIDI100, "ENDPOINT": "http://127.0.0.1:9/poll"}
    sub = TrackingSubscription.objects.get(parcel=ship("SF2"))
    assert sub.status == "pending" and sub.last_error


def test_the_system_check_wants_the_key(settings):
    assert [m for m in run_checks() if m.id == "fenxiao.E014"] == []
    settings.KUAIDI100 = {**settings.KUAIDI100, "KEY": ""}
    assert [m.id for m in run_checks() if m.id == "fenxiao.E014"] == ["fenxiao.E014"]
