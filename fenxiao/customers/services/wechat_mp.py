"""The 公众号's server API, shared by WeChat template messages and the JS-SDK.

Its access token comes from `stable_token`, which does not revoke the token another node
holds; the JS-SDK ticket (jsapi_ticket) comes from that token. Both are kept in the shared
cache until shortly before they expire, so the whole cluster asks WeChat about once in two
hours (WeChat caps both calls a day).

The same calls serve another WeChat app of the merchant (the mini-program, see
`wechat_miniprogram`): each takes an `App` (appid, secret, API base) and defaults to the
公众号's, so each app's token is fetched and cached under its own appid.

`jssdk_config` signs a mall page for the JS-SDK (`wx.config`), which the share card needs:
the page's address must lie under the 公众号's JS接口安全域名, the mall's `SITE_URL`.
"""

import hashlib
import http.client
import json
import logging
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from .wechat_oauth import appid, configured

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
# A page waits at most this long for each of the (at most two) calls that fetch a ticket;
# without one it is served without a share card.
PAGE_TIMEOUT_SECONDS = 2
# After a failed ticket fetch, pages stop asking WeChat for this long.
PAGE_RETRY_AFTER_SECONDS = 60
# One page of the cluster fetches a missing ticket at a time; the others go without a card
# meanwhile (at most this long, should the fetching one die).
FETCH_LOCK_SECONDS = 10
# Answers meaning the access token is no longer good: fetch a new one next time.
TOKEN_ERRORS = {40001, 40014, 42001}


@dataclass(frozen=True)
class App:
    """A WeChat app whose server API the mall calls with its own AppSecret."""

    appid: str
    secret: str
    api_base: str


def mp_app() -> App:
    """The 公众号 bound to the merchant's WeChat Pay (WECHATPAY's APPID, WECHAT_MP's SECRET)."""
    return App(appid(), settings.WECHAT_MP.get("SECRET", ""), settings.WECHAT_MP["API_BASE"])


class WechatApiFailed(Exception):
    """WeChat's server API could not be reached or refused the call."""

    def __init__(self, message: str, errcode: int | None = None):
        super().__init__(message)
        self.errcode = errcode


def call(
    path: str,
    payload: dict | None = None,
    query: dict | None = None,
    *,
    timeout=TIMEOUT_SECONDS,
    app: App | None = None,
) -> dict:
    """POST `payload` as JSON (or GET without one) to the API of `app` (the 公众号 unless
    given); its answer. An answer with a non-zero `errcode` is returned, not raised: each
    caller reads its own codes."""
    app = app or mp_app()
    _content_type, raw = _request(path, payload, query, timeout=timeout, app=app)
    return _answer(raw, app)


def call_for_file(
    path: str, payload: dict, query: dict, *, timeout=TIMEOUT_SECONDS, app: App | None = None
) -> tuple[bytes | None, dict]:
    """POST `payload` to an API that answers a file (an image) when it succeeds and JSON
    when it does not: (the file, {}) or (None, the answer)."""
    app = app or mp_app()
    content_type, raw = _request(path, payload, query, timeout=timeout, app=app)
    if content_type.startswith("image/") and raw:
        return raw, {}
    return None, _answer(raw, app)


def _request(path: str, payload: dict | None, query: dict | None, *, timeout, app: App) -> tuple[str, bytes]:
    url = app.api_base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    request = urllib.request.Request(  # noqa: S310 - the configured https API base
        url,
        data=None if payload is None else json.dumps(payload, ensure_ascii=False).encode(),
        headers={} if payload is None else {"Content-Type": "application/json"},
        method="GET" if payload is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.headers.get("Content-Type", ""), response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise WechatApiFailed(f"微信接口无法连接：{exc}") from exc


def _answer(raw: bytes, app: App) -> dict:
    try:
        answer = json.loads(raw)
    except ValueError as exc:
        raise WechatApiFailed(f"微信接口无法连接：{exc}") from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("errcode", 0), int):
        raise WechatApiFailed("微信接口应答无法解析")
    if answer.get("errcode") in TOKEN_ERRORS:
        forget_token(app)
    return answer


def _token_key(app: App | None = None) -> str:
    return f"wechat-mp-token:{(app or mp_app()).appid}"


def _ticket_key() -> str:
    return f"wechat-mp-jsapi-ticket:{appid()}"


def _lifetime(answer: dict) -> int:
    """How long to keep a token or ticket: five minutes short of what WeChat gives it."""
    try:
        expires_in = int(answer.get("expires_in") or 7200)
    except (TypeError, ValueError):
        expires_in = 7200
    return max(expires_in - 300, 60)


def access_token(*, timeout=TIMEOUT_SECONDS, app: App | None = None) -> str:
    """The access token of `app` (the 公众号 unless given), from the shared cache or, when
    it has none, from `stable_token`."""
    app = app or mp_app()
    token = cache.get(_token_key(app))
    if token:
        return token
    answer = call(
        "/cgi-bin/stable_token",
        {"grant_type": "client_credential", "appid": app.appid, "secret": app.secret},
        timeout=timeout,
        app=app,
    )
    token = answer.get("access_token")
    if not token:
        raise WechatApiFailed(
            f"获取 access_token 失败（{app.appid}）：{answer.get('errcode')} {answer.get('errmsg')}",
            answer.get("errcode"),
        )
    cache.set(_token_key(app), token, _lifetime(answer))
    return token


def forget_token(app: App | None = None) -> None:
    cache.delete(_token_key(app))


def jsapi_ticket(*, timeout=TIMEOUT_SECONDS) -> str:
    """The JS-SDK ticket, fetched when the cache has none. A cached token that WeChat calls
    stale (another node's `stable_token` call can replace it) is dropped, and the caller
    asks again later with a fresh one."""
    ticket = cache.get(_ticket_key())
    if ticket:
        return ticket
    answer = call(
        "/cgi-bin/ticket/getticket",
        query={"access_token": access_token(timeout=timeout), "type": "jsapi"},
        timeout=timeout,
    )
    ticket = answer.get("ticket")
    if answer.get("errcode") or not ticket:
        raise WechatApiFailed(
            f"获取 JS-SDK ticket 失败：{answer.get('errcode')} {answer.get('errmsg')}", answer.get("errcode")
        )
    cache.set(_ticket_key(), ticket, _lifetime(answer))
    return ticket


def jssdk_signature(*, ticket: str, nonce: str, timestamp: int, url: str) -> str:
    """WeChat's JS-SDK signature: SHA-1 of the four fields in this order, the page's address
    without its #fragment."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url.split('#')[0]}"
    return hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - the algorithm WeChat specifies


def jssdk_config(url: str) -> dict | None:
    """What `wx.config` needs on the page at `url`, or None when the 公众号 is not configured
    or no ticket is at hand: WeChat cannot give one now, or another page is fetching it.
    The page then goes without a share card."""
    if not configured():
        return None
    # One read of the shared cache on a page: the ticket, or the note that WeChat just failed.
    failed = f"{_ticket_key()}:failed"
    known = cache.get_many([_ticket_key(), failed])
    ticket = known.get(_ticket_key())
    if ticket is None:
        if known.get(failed) or not cache.add(f"{_ticket_key()}:fetching", True, FETCH_LOCK_SECONDS):
            return None
        try:
            ticket = jsapi_ticket(timeout=PAGE_TIMEOUT_SECONDS)
        except WechatApiFailed as exc:
            logger.warning("JS-SDK share card unavailable: %s", exc)
            if exc.errcode not in TOKEN_ERRORS:  # a stale token is fetched afresh by the next page
                cache.set(failed, True, PAGE_RETRY_AFTER_SECONDS)
            return None
        finally:
            cache.delete(f"{_ticket_key()}:fetching")
    nonce = secrets.token_urlsafe(12)
    timestamp = int(time.time())
    return {
        "appId": appid(),
        "timestamp": timestamp,
        "nonceStr": nonce,
        "signature": jssdk_signature(ticket=ticket, nonce=nonce, timestamp=timestamp, url=url),
    }
