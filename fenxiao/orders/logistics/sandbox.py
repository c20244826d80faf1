"""A sandbox tracking service that behaves like Kuaidi100.

Subscribing a waybill is answered at once; the parcel's journey then happens later, on
the service's side: a Huey task scheduled with delays moves it 揽收 → 运输中 → 派件 →
签收, and after each step POSTs the whole trail to the callback URL as a signed form
(`param`, `sign`), the way Kuaidi100 does. A push the mall does not acknowledge is sent
again a few times. `SandboxWaybill` is the service's own record, not the mall's.

`LOGISTICS_SANDBOX_STEP_SECONDS` sets the time between steps (two minutes by default, so
a demo shows a parcel arrive within ten minutes).
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from fenxiao.shipping.carriers import Carrier, carrier_record_name

from ..models import SandboxWaybill, TrackingState
from .base import STATE_CODES, SubscribeResult, TrackingProvider, TrackingPush, parse_kuaidi100, sign

CHINA = ZoneInfo("Asia/Shanghai")
ORIGIN = "深圳市"
MAX_REPUSHES = 5
REPUSH_SECONDS = 60

# One step per push: (state, location, text). {carrier} and {to} are filled in.
STEPS = [
    (
        TrackingState.COLLECTED,
        ORIGIN,
        "【深圳市】{carrier} 深圳宝安营业部 已揽收，揽收员：王师傅 138****0001",
    ),
    (TrackingState.IN_TRANSIT, ORIGIN, "【深圳市】快件已从 深圳转运中心 发出，下一站 {to}转运中心"),
    (TrackingState.IN_TRANSIT, "{to}", "【{to}】快件已到达 {to}转运中心"),
    (TrackingState.DELIVERING, "{to}", "【{to}】快件正在派送中，派件员：李师傅 139****0002，请保持电话畅通"),
    (
        TrackingState.SIGNED,
        "{to}",
        "【{to}】快件已签收，签收人：本人签收。感谢使用{carrier}，期待再次为您服务",
    ),
]


def step_seconds() -> float:
    return float(getattr(settings, "LOGISTICS_SANDBOX_STEP_SECONDS", 120))


def deliver(url: str, body: bytes) -> tuple[int, bytes]:
    """POST a push to the mall, as the service's servers would (tests route it in-process)."""
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class SandboxTracking(TrackingProvider):
    name = "sandbox"
    # Staff are told plainly that its journeys are simulated; buyers never see the service.
    label = gettext_lazy("模拟物流")

    def subscribe(self, *, carrier, number, callback_url, salt, destination="", phone="") -> SubscribeResult:
        if carrier not in Carrier.values or carrier == Carrier.OTHER:
            return SubscribeResult(accepted=False, retryable=False, message="该物流公司不支持轨迹订阅")
        with transaction.atomic():
            waybill, created = SandboxWaybill.objects.get_or_create(
                callback_url=callback_url,
                defaults={
                    "carrier": carrier,
                    "number": number,
                    "salt": salt,
                    "destination": destination[:20],
                },
            )
            if created:
                transaction.on_commit(lambda: schedule_push(waybill.pk, advance=True))
        return SubscribeResult(accepted=True)

    def parse_push(self, form, salt) -> TrackingPush:
        return parse_kuaidi100(form, salt)


# --- the service's side: the parcel's journey and the pushes ---------------------------------


def schedule_push(waybill_id: int, *, advance: bool, attempt: int = 0, delay: float | None = None) -> None:
    from ..tasks import push_sandbox_tracking

    push_sandbox_tracking.schedule(
        args=(waybill_id,),
        kwargs={"advance": advance, "attempt": attempt},
        delay=step_seconds() if delay is None else delay,
    )


def _advance(waybill: SandboxWaybill) -> None:
    state, location, text = STEPS[waybill.steps_pushed]
    to = waybill.destination or "收件城市"
    when = timezone.now().astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    line = {
        "time": when,
        "ftime": when,
        "context": text.format(carrier=carrier_record_name(waybill.carrier), to=to),
        "status": _carrier_label(state),
        "statusCode": STATE_CODES[state],
        "areaName": location.format(to=to),
    }
    waybill.trail = [line, *waybill.trail]
    waybill.steps_pushed += 1
    SandboxWaybill.objects.filter(pk=waybill.pk).update(
        trail=waybill.trail, steps_pushed=waybill.steps_pushed
    )


def build_push(waybill: SandboxWaybill) -> bytes:
    latest = waybill.trail[0]["statusCode"] if waybill.trail else "0"
    param = json.dumps(
        {
            "status": "polling",
            "billstatus": "check" if latest == "3" else "got",
            "message": "",
            "lastResult": {
                "message": "ok",
                "status": "200",
                "state": latest,
                "ischeck": "1" if latest == "3" else "0",
                "com": waybill.carrier,
                "nu": waybill.number,
                "data": waybill.trail,
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return urllib.parse.urlencode({"param": param, "sign": sign(waybill.salt, param)}).encode()


def acknowledged(status: int, reply: bytes) -> bool:
    if status != 200:
        return False
    try:
        return json.loads(reply).get("result") is True
    except (ValueError, AttributeError):
        return False


def push(waybill_id: int, *, advance: bool = True, attempt: int = 0) -> bool:
    """Move the parcel one step on (`advance`) and push its trail; schedule what comes next.
    True when the mall acknowledged the push."""
    with transaction.atomic():
        waybill = SandboxWaybill.objects.select_for_update().filter(pk=waybill_id).first()
        if waybill is None:
            return False
        if advance:
            if waybill.steps_pushed >= len(STEPS):
                return False
            _advance(waybill)
    try:
        status, reply = deliver(waybill.callback_url, build_push(waybill))
    except Exception:  # the mall is unreachable: like any unacknowledged push
        status, reply = 0, b""
    ok = acknowledged(status, reply)
    if not ok and attempt < MAX_REPUSHES:
        schedule_push(waybill.pk, advance=False, attempt=attempt + 1, delay=REPUSH_SECONDS)
    if advance and waybill.steps_pushed < len(STEPS):
        schedule_push(waybill.pk, advance=True)
    return ok


def _carrier_label(state) -> str:
    """The state as the carrier writes it: in Chinese, whatever the language of the request."""
    with translation.override("zh-hans"):
        return str(TrackingState(state).label)
