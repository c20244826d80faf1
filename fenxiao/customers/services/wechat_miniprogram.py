"""Signing in from the merchant's WeChat mini-program (微信小程序) with WeChat's own proofs.

The mini-program sends the code of `wx.login`, which the server exchanges (with the
mini-program's AppSecret) for the WeChat user's openid under the mini-program
(`jscode2session`; its session_key is neither kept nor handed on: the mall decrypts
nothing with it). An openid already bound to an account signs that account in.

A WeChat user the mall does not know yet must show a phone number: the code of the
`getPhoneNumber` button is exchanged (with the mini-program's access token) for the
number WeChat has verified, which is as good as a texted code. It signs in the account of
that number, or makes a new buyer account for it (no password; one can be set later with
an SMS reset), and the openid is bound to the account, so later sign-ins need `wx.login`
alone and WeChat Pay in the mini-program knows who pays (`wechatpay_miniprogram`).

A `wx.login` code is good for one exchange: after PHONE_REQUIRED the mini-program calls
`wx.login` again and sends the new code with the phone code.

Configuration: `settings.WECHAT_MINIPROGRAM` with APPID, SECRET and API_BASE (WeChat's
API, https://api.weixin.qq.com by default).
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy

from ..errors import InvalidPhone, LoginRateLimited, WechatMiniProgramSignInFailed
from ..models import User, WechatIdentity
from . import limits, wechat_mp, wechat_oauth
from .accounts import normalise_phone

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
# What jscode2session and getuserphonenumber answer for a code that is wrong, used or
# expired (40029 invalid code, 40163 code been used).
CODE_ERRORS = {40029, 40163}
# 40226: WeChat's own risk control blocks this user from signing in to mini-programs.
BLOCKED_ERRORS = {40226}

CODE_INVALID = gettext_lazy("微信登录凭证无效或已过期，请重新进入小程序后再试")
PHONE_CODE_INVALID = gettext_lazy("手机号授权已失效，请重新点击按钮授权手机号")
PHONE_REQUIRED = gettext_lazy("首次使用请授权手机号，以登录或创建商城账号")
UNREACHABLE = gettext_lazy("暂时无法连接微信，请稍后重试")
NOT_CONFIGURED = gettext_lazy("商城暂未开通微信小程序登录")
BLOCKED = gettext_lazy("微信暂不允许该账号登录小程序，请稍后再试或使用手机号登录")
STAFF_REFUSED = gettext_lazy("员工账号不能用微信小程序登录，请用账号密码登录")
DISABLED = gettext_lazy("该账号已停用，请联系客服")
FOREIGN_PHONE = gettext_lazy("暂只支持中国大陆手机号，请在微信中换绑大陆手机号后再试")


def config() -> dict:
    return dict(getattr(settings, "WECHAT_MINIPROGRAM", {}) or {})


def appid() -> str:
    return config().get("APPID", "")


def configured() -> bool:
    cfg = config()
    return bool(cfg.get("APPID") and cfg.get("SECRET"))


def app() -> wechat_mp.App:
    cfg = config()
    return wechat_mp.App(cfg.get("APPID", ""), cfg.get("SECRET", ""), cfg.get("API_BASE") or DEFAULT_API_BASE)


def _refused(message, code: str, status: int, errcode=None) -> WechatMiniProgramSignInFailed:
    details = {"errcode": errcode} if errcode is not None else {}
    return WechatMiniProgramSignInFailed(message, code=code, status=status, **details)


def _unreachable(exc: Exception) -> WechatMiniProgramSignInFailed:
    logger.warning("WeChat mini-program API failed: %s", exc)
    return _refused(UNREACHABLE, "WECHAT_UNREACHABLE", 503)


def _wechat_refusal(answer: dict, *, invalid_message, what: str) -> WechatMiniProgramSignInFailed:
    errcode = answer.get("errcode")
    if errcode in CODE_ERRORS:
        return _refused(invalid_message, "WECHAT_CODE_INVALID", 400, errcode)
    if errcode in BLOCKED_ERRORS:
        return _refused(BLOCKED, "WECHAT_USER_BLOCKED", 403, errcode)
    # Anything else (a wrong AppSecret, WeChat busy, a rate cap) is the mall's or WeChat's
    # problem, not the buyer's: logged for the merchant, the buyer is asked to retry later.
    logger.error("WeChat mini-program %s refused: %s %s", what, errcode, answer.get("errmsg"))
    return _refused(UNREACHABLE, "WECHAT_UNREACHABLE", 503, errcode)


def openid_for_code(code: str) -> str:
    """The openid a `wx.login` code stands for (jscode2session); the session key is dropped."""
    target = app()
    try:
        answer = wechat_mp.call(
            "/sns/jscode2session",
            query={
                "appid": target.appid,
                "secret": target.secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
            app=target,
        )
    except wechat_mp.WechatApiFailed as exc:
        raise _unreachable(exc) from exc
    openid = answer.get("openid")
    if answer.get("errcode") or not openid or not isinstance(openid, str):
        raise _wechat_refusal(answer, invalid_message=CODE_INVALID, what="jscode2session")
    if len(openid) > 64:  # not an openid WeChat hands out: not an answer
        raise _unreachable(wechat_mp.WechatApiFailed("jscode2session 应答的 openid 过长"))
    return openid


def verified_phone(phone_code: str) -> str:
    """The phone number WeChat verified for the `getPhoneNumber` code, in the mall's form."""
    target = app()
    answer: dict = {}
    # One retry with a fresh token: another node's stable_token call may have replaced
    # the cached one (WeChat answers 40001, and `call` has dropped it from the cache).
    for _attempt in range(2):
        try:
            token = wechat_mp.access_token(app=target)
            answer = wechat_mp.call(
                "/wxa/business/getuserphonenumber",
                {"code": phone_code},
                {"access_token": token},
                app=target,
            )
        except wechat_mp.WechatApiFailed as exc:
            raise _unreachable(exc) from exc
        if answer.get("errcode") not in wechat_mp.TOKEN_ERRORS:
            break
    info = answer.get("phone_info") if not answer.get("errcode") else None
    if not isinstance(info, dict):
        raise _wechat_refusal(answer, invalid_message=PHONE_CODE_INVALID, what="getuserphonenumber")
    watermark = info.get("watermark")
    if not isinstance(watermark, dict) or watermark.get("appid") != target.appid:
        # Verified for another app: not a proof made for this mall.
        raise _refused(PHONE_CODE_INVALID, "WECHAT_CODE_INVALID", 400)
    if str(info.get("countryCode", "86")) != "86":
        raise _refused(FOREIGN_PHONE, InvalidPhone.code, 400)
    try:
        return normalise_phone(str(info.get("purePhoneNumber") or ""))
    except InvalidPhone as exc:
        raise _refused(FOREIGN_PHONE, InvalidPhone.code, 400) from exc


def _check_buyer(user: User) -> User:
    if user.is_staff or user.is_superuser:
        raise _refused(STAFF_REFUSED, "STAFF_SIGN_IN_REFUSED", 403)
    if not user.is_active:
        raise _refused(DISABLED, "ACCOUNT_DISABLED", 403)
    return user


def _account_for_phone(phone: str) -> tuple[User, bool]:
    """The account that signs in with `phone`, or a new buyer account for it: (user, created)."""
    existing = User.objects.filter(Q(username=phone) | Q(phone=phone)).order_by("pk").first()
    if existing is not None:
        return _check_buyer(existing), False
    user = User(username=phone, phone=phone)
    # No password: the buyer signs in with WeChat, or sets one with the SMS reset.
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # made at the same moment by another request for this number
        existing = User.objects.filter(Q(username=phone) | Q(phone=phone)).order_by("pk").first()
        if existing is None:
            raise
        return _check_buyer(existing), False
    return user, True


def sign_in(*, code: str, phone_code: str = "", client_ip: str | None = None) -> tuple[User, bool]:
    """The account the mini-program's WeChat user signs in to: (user, created).

    Limited per client address like password sign-ins (LOGIN_FAILURE_LIMIT x 4 per
    LOGIN_FAILURE_WINDOW_SECONDS): every attempt counts before WeChat is asked, and a
    sign-in that gets through gives its place back, so only failures use the budget.
    """
    if not configured():
        # Like an unlisted payment gateway: a feature this mall has not turned on (400),
        # not an outage.
        raise _refused(NOT_CONFIGURED, "WECHAT_MINIPROGRAM_NOT_CONFIGURED", 400)
    address_key = limits.counter_key("wxmp-ip", client_ip) if client_ip else None
    if address_key and (
        limits.hit(address_key, settings.LOGIN_FAILURE_WINDOW_SECONDS) > settings.LOGIN_FAILURE_LIMIT * 4
    ):
        raise LoginRateLimited()
    openid = openid_for_code(code)
    identity = WechatIdentity.objects.select_related("user").filter(appid=appid(), openid=openid).first()
    if identity is not None:
        user, created = _check_buyer(identity.user), False
    elif not phone_code:
        if address_key:
            limits.release(address_key)  # a normal step of a first sign-in, not a failure
        raise _refused(PHONE_REQUIRED, "PHONE_REQUIRED", 409)
    else:
        user, created = _account_for_phone(verified_phone(phone_code))
        wechat_oauth.bind(user, openid, app_id=appid())
    if address_key:
        limits.release(address_key)
    return user, created
