"""The adapter interface every tracking service (Kuaidi100, the sandbox) implements.

Modelled on Kuaidi100's subscription API: the mall subscribes a waybill (carrier code,
number) with a callback URL and a `salt` of its own choosing; from then on the service
pushes the parcel's whole trail to the callback URL whenever it changes, as a form with
`param` (the trail, JSON) and `sign`. Kuaidi100 signs with MD5(param + salt); the mall
asks its adapters for HMAC-SHA256(salt, param), which cannot be extended or forged
without the salt. Each subscription has its own random salt, so a leaked one opens only
that parcel's trail, and no default key exists that anyone could sign with.
"""

import abc
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from ..models import TrackingState

# Kuaidi100's state codes (`state` of the trail, `statusCode` of each line) in our terms.
KUAIDI100_STATES = {
    "0": TrackingState.IN_TRANSIT,
    "1": TrackingState.COLLECTED,
    "2": TrackingState.PROBLEM,
    "3": TrackingState.SIGNED,
    "4": TrackingState.RETURNED,  # 退签
    "5": TrackingState.DELIVERING,
    "6": TrackingState.RETURNED,  # 退回
    "7": TrackingState.IN_TRANSIT,  # 转投
    "8": TrackingState.IN_TRANSIT,  # 清关
    "14": TrackingState.RETURNED,  # 拒签
}
# Kuaidi100's advanced codes (高级物流状态, resultv2=4) by their family: 1xx 揽收 (1001 and
# 1002, 到达派件城市 / 干线, are 在途), 2xx 疑难, 3xx 签收, 4xx 退签, 5xx 派件.
_FAMILIES = {
    "1": TrackingState.COLLECTED,
    "2": TrackingState.PROBLEM,
    "3": TrackingState.SIGNED,
    "4": TrackingState.RETURNED,
    "5": TrackingState.DELIVERING,
}


def kuaidi100_state(code: str) -> str:
    """Our state for a Kuaidi100 state code, basic ("3") or advanced ("301")."""
    code = str(code).strip()
    if code in KUAIDI100_STATES:
        return KUAIDI100_STATES[code]
    if len(code) == 4 and code.startswith("10"):
        return TrackingState.IN_TRANSIT
    return _FAMILIES.get(code[:1], TrackingState.IN_TRANSIT) if len(code) == 3 else TrackingState.IN_TRANSIT


STATE_CODES = {
    TrackingState.COLLECTED: "1",
    TrackingState.IN_TRANSIT: "0",
    TrackingState.DELIVERING: "5",
    TrackingState.SIGNED: "3",
    TrackingState.PROBLEM: "2",
    TrackingState.RETURNED: "6",
}


def sign(salt: str, param: str) -> str:
    return hmac.new(salt.encode(), param.encode(), hashlib.sha256).hexdigest().upper()


def signature_matches(salt: str, param: str, signature: str) -> bool:
    return bool(salt and signature) and hmac.compare_digest(sign(salt, param), signature.strip().upper())


@dataclass(frozen=True)
class TrackingLine:
    occurred_at: datetime
    state: str
    context: str
    location: str = ""


@dataclass(frozen=True)
class TrackingPush:
    """A verified push, in the mall's terms: the waybill and its trail (any order)."""

    carrier: str
    number: str
    state: str
    lines: list[TrackingLine] = field(default_factory=list)
    previous_carrier: str = ""
    # Set when the service says it stops following the waybill: why.
    stopped: str = ""


@dataclass(frozen=True)
class SubscribeResult:
    accepted: bool
    # False when retrying cannot help (unknown carrier, bad number): the row fails at once.
    retryable: bool = True
    message: str = ""


class TrackingProvider(abc.ABC):
    name: str
    label: str

    @abc.abstractmethod
    def subscribe(
        self,
        *,
        carrier: str,
        number: str,
        callback_url: str,
        salt: str,
        destination: str = "",
        phone: str = "",
    ) -> SubscribeResult:
        """Ask the service to push this waybill's trail to `callback_url`, signed with `salt`
        (`destination`: the recipient's city, which helps some carriers' routing; `phone`:
        the recipient's phone, which 顺丰 asks for before it shows a trail).
        Must be idempotent: subscribing the same waybill and URL twice is one subscription."""

    @abc.abstractmethod
    def parse_push(self, form: dict[str, str], salt: str) -> TrackingPush:
        """Check a push's signature with the subscription's salt and parse it, or raise a
        DomainError (bad signature, malformed)."""


def parse_kuaidi100(form: dict[str, str], salt: str) -> TrackingPush:
    """A Kuaidi100-style push (`param` JSON + `sign`), verified with `salt` (HMAC-SHA256)."""
    from ..errors import TrackingSignatureInvalid

    param, signature = form.get("param") or "", form.get("sign") or ""
    if not signature_matches(salt, param, signature):
        raise TrackingSignatureInvalid()
    return parse_kuaidi100_param(param)


def parse_kuaidi100_param(param: str) -> TrackingPush:
    """The trail in a Kuaidi100 push's `param`, whose signature the caller has checked."""
    import json
    from zoneinfo import ZoneInfo

    from ..errors import TrackingPushMalformed

    try:
        data = json.loads(param)
        result = data["lastResult"]
        lines = []
        trail_state = str(result.get("state", "0"))
        for index, row in enumerate(result.get("data") or []):
            when = datetime.strptime(str(row.get("ftime") or row["time"]), "%Y-%m-%d %H:%M:%S")
            # A line without its own code: only the newest (first) one is in the trail's state;
            # giving older lines that state would date a signing back to the collection.
            code = str(row.get("statusCode") or (trail_state if index == 0 else "0"))
            lines.append(
                TrackingLine(
                    occurred_at=when.replace(tzinfo=ZoneInfo("Asia/Shanghai")),  # carriers' clocks
                    state=kuaidi100_state(code),
                    context=str(row["context"])[:300],
                    location=str(row.get("areaName") or row.get("location") or "")[:80],
                )
            )
        return TrackingPush(
            carrier=str(result["com"]),
            number=str(result["nu"]),
            state=kuaidi100_state(trail_state),
            # Kuaidi100 corrected the carrier it was given (autoCheck): the waybill's own carrier.
            previous_carrier=str(data.get("comOld") or ""),
            lines=lines,
            # "abort": Kuaidi100 gives up the waybill (3 days without a record, or 60 without
            # a change) and pushes no more.
            stopped=(str(data.get("message") or "") or "快递100已停止跟踪")[:200]
            if data.get("status") == "abort"
            else "",
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TrackingPushMalformed() from exc
