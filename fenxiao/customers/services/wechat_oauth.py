"""The buyer's openid from WeChat's web authorisation (网页授权, snsapi_base: silent, no
prompt), for paying inside WeChat's browser.

The buyer is sent to WeChat's authorise address with a one-time `state` kept in their
session; WeChat sends them back with a `code`, which the server exchanges (with the
公众号's AppSecret) for the openid. The openid is kept in the session, and bound to the
signed-in account (`WechatIdentity`, for WeChat messages). Paying uses only the openid
learnt in this session: the account's may be another phone's WeChat user.
"""

import hmac
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext

from fenxiao.core.http import is_site_path

from ..errors import WechatAuthFailed, WechatBindConflict
from ..models import WechatIdentity

SESSION_PENDING = "wechat_auth"
SESSION_OPENID = "wechat_openid"
# Set when learning the openid failed: the pay page then stops sending the buyer round.
SESSION_FAILED = "wechat_auth_failed"
TIMEOUT_SECONDS = 10


def appid() -> str:
    return settings.WECHATPAY.get("APPID", "")


def configured() -> bool:
    return bool(appid() and settings.WECHAT_MP.get("SECRET"))


def authorize_url(request, next_path: str) -> str:
    """Where to send the buyer to learn their openid; they come back to `next_path`."""
    state = secrets.token_urlsafe(16)
    request.session[SESSION_PENDING] = {"state": state, "next": next_path if is_site_path(next_path) else "/"}
    query = urllib.parse.urlencode(
        {
            "appid": appid(),
            "redirect_uri": settings.SITE_URL + reverse("storefront:wechat_auth_return"),
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
        },
        quote_via=urllib.parse.quote,
    )
    return f"{settings.WECHAT_MP['OAUTH_BASE']}/connect/oauth2/authorize?{query}#wechat_redirect"


def complete(request, *, code: str, state: str) -> str:
    """The buyer is back from WeChat: learn their openid; returns the path to go on to."""
    pending = request.session.pop(SESSION_PENDING, None)
    try:
        if not (pending and code and hmac.compare_digest(str(state).encode(), pending["state"].encode())):
            raise WechatAuthFailed()
        openid = exchange_code(code)
    except WechatAuthFailed:
        request.session[SESSION_FAILED] = True
        raise
    request.session.pop(SESSION_FAILED, None)
    request.session[SESSION_OPENID] = {"appid": appid(), "openid": openid}
    if request.user.is_authenticated:
        bind(request.user, openid)
    return pending["next"]


def exchange_code(code: str) -> str:
    query = urllib.parse.urlencode(
        {
            "appid": appid(),
            "secret": settings.WECHAT_MP["SECRET"],
            "code": code,
            "grant_type": "authorization_code",
        }
    )
    url = f"{settings.WECHAT_MP['API_BASE']}/sns/oauth2/access_token?{query}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - configured https
            answer = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise WechatAuthFailed(
            gettext("暂时无法连接微信，请稍后重试"), code="WECHAT_UNREACHABLE", status=503
        ) from exc
    openid = answer.get("openid") if isinstance(answer, dict) else None
    if not openid:
        detail = answer.get("errcode") if isinstance(answer, dict) else None
        raise WechatAuthFailed(errcode=detail)
    return str(openid)


def bind(user, openid: str, *, app_id: str | None = None) -> WechatIdentity:
    """Make `openid` the account's under `app_id` (the 公众号 unless given; the mini-program
    binds its own): WeChat messages for an account go to the WeChat user who last signed in
    to it in WeChat (who has just shown they hold its session), and one WeChat user
    receives one account's messages."""
    app_id = app_id or appid()
    try:
        with transaction.atomic():
            WechatIdentity.objects.filter(appid=app_id).filter(Q(user=user) | Q(openid=openid)).exclude(
                user=user, openid=openid
            ).delete()
            identity, _ = WechatIdentity.objects.get_or_create(
                user=user, appid=app_id, defaults={"openid": openid}
            )
    except IntegrityError as exc:
        # The same WeChat user signing in to two accounts at the same moment: one wins.
        raise WechatBindConflict() from exc
    return identity


def should_ask(request) -> bool:
    """Send this buyer to learn their openid before they pay: it is configured, not known
    in this session yet, and has not just failed."""
    return configured() and not request.session.get(SESSION_FAILED) and openid_for(request) is None


def openid_for(request) -> str | None:
    """The openid this browser pays with: only one learnt in this session (silently, so it
    costs the buyer nothing), never the account's bound one, which may be another phone's
    WeChat user and would be refused by WeChat Pay."""
    known = request.session.get(SESSION_OPENID)
    if known and known.get("appid") == appid():
        return known["openid"]
    return None
