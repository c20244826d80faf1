from datetime import datetime
from typing import Literal

from django.conf import settings
from django.contrib.auth import login as session_login
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from ninja.utils import check_csrf
from pydantic import ConfigDict, Field

from fenxiao.core.errors import DomainError, InvalidInput
from fenxiao.core.http import client_ip
from fenxiao.distribution.paging import KeysetPagination
from fenxiao.distribution.services import binding
from fenxiao.distribution.views import claim_cookie_referral

from .auth import buyer_auth
from .services import accounts, addresses, devices, sms_codes, wallet, wechat_miniprogram

router = Router(tags=["账号"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Strict):
    phone: str = Field(max_length=20)
    password: str = Field(max_length=128)
    code: str = Field(max_length=10, description="The 6-digit code texted by `/auth/sms-code`")
    nickname: str = Field(default="", max_length=40)


class SmsCodeIn(Strict):
    phone: str = Field(max_length=20)
    purpose: Literal["register", "reset_password"]


class PasswordResetIn(Strict):
    phone: str = Field(max_length=20)
    code: str = Field(max_length=10, description="The code texted by `/auth/sms-code` (reset_password)")
    password: str = Field(max_length=128, description="The new password")


class PasswordChangeIn(Strict):
    old_password: str = Field(max_length=128)
    password: str = Field(max_length=128, description="The new password")


class ProfileIn(Strict):
    """What to change; a field left out stays as it is."""

    nickname: str | None = Field(None, max_length=40)
    accepts_marketing: bool | None = Field(
        None, description="接收商家通过短信发送的活动推送（站内消息和交易通知不受影响）"
    )


class SmsCodeOut(Schema):
    message: str
    resend_after: int


class LoginIn(Strict):
    """Buyers sign in with `phone`; staff may give their `username` instead."""

    phone: str | None = Field(default=None, max_length=20)
    username: str | None = Field(default=None, max_length=150)
    password: str = Field(max_length=128)


class WechatMiniProgramIn(Strict):
    code: str = Field(min_length=1, max_length=128, description="The code of `wx.login` (good once)")
    phone_code: str = Field(
        default="",
        max_length=128,
        description="The code of the `getPhoneNumber` button, needed the first time (PHONE_REQUIRED)",
    )
    ref: str = Field(default="", max_length=32, description="The referral code of the share the user came by")
    ref_source: Literal["link", "qr", "poster", "store", "coupon"] = Field(
        default="link", description="What the share was: link, qr, poster, store, coupon"
    )


class UserOut(Schema):
    id: int
    phone: str | None
    nickname: str
    display_name: str
    accepts_marketing: bool


class WalletOut(Schema):
    balance: int = Field(description="商城余额（分），结算时可抵扣")


class WalletEntryOut(Schema):
    id: int
    amount: int = Field(description="金额（分）：正数为转入或退回，负数为下单抵扣")
    note: str = Field(description="说明，系统写入的按请求的语言（Accept-Language）显示")
    created_at: datetime

    @staticmethod
    def resolve_note(obj):
        return obj.note_text


class TokenOut(Schema):
    token: str
    user: UserOut


class AddressIn(Strict):
    recipient: str = Field(max_length=40)
    phone: str = Field(max_length=20)
    province: str = Field(max_length=20)
    city: str = Field(max_length=20)
    district: str = Field(default="", max_length=20)
    detail: str = Field(max_length=200)
    is_default: bool = False


class AddressOut(Schema):
    id: int
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    full_text: str
    is_default: bool


def _require_json(request) -> None:
    # A browser may send text/plain across origins without a preflight; JSON it may not.
    if request.content_type != "application/json":
        raise DomainError(
            _("请以 JSON 格式提交（Content-Type: application/json）"),
            code="UNSUPPORTED_MEDIA_TYPE",
            status=415,
        )


def _require_same_origin(request) -> None:
    """A request that will set a session cookie must come from our own pages (CSRF check:
    Origin/Referer against the host and CSRF_TRUSTED_ORIGINS, plus the CSRF token)."""
    if check_csrf(request) is not None:
        raise DomainError(_("请求来源无法验证，请刷新页面后重试"), code="CSRF_FAILED", status=403)


SMS_SENT = gettext_lazy("验证码已发送")


@router.post("/auth/sms-code", response={202: SmsCodeOut}, auth=None)
def sms_code(request, payload: SmsCodeIn):
    """Text a code for registering (`register`) or for setting a forgotten password
    (`reset_password`). The answer is the same whether the number has an account or not:
    a registered number asking to register, or an unknown one asking to reset, is texted
    that, with no code."""
    _require_json(request)
    phone = accounts.normalise_phone(payload.phone)
    if payload.purpose == "reset_password":
        sms_codes.request_reset_code(phone=phone, client_ip=client_ip(request))
    else:
        sms_codes.request_register_code(phone=phone, client_ip=client_ip(request))
    return Status(202, {"message": str(SMS_SENT), "resend_after": settings.SMS_CODE_PHONE_INTERVAL_SECONDS})


def _token_for(request, user) -> str:
    """A new bearer token for an app that has just signed `user` in, on its device."""
    devices.remember(user, request)
    return accounts.issue_token(user)


@router.post("/auth/register", response={201: TokenOut}, auth=None)
def register(request, response: HttpResponse, payload: RegisterIn):
    """Needs the code from `/auth/sms-code`. A wrong, expired or missing code and a number
    that already has an account get the same refusal: 400 SMS_CODE_INVALID."""
    _require_json(request)
    user = accounts.register_buyer(
        phone=payload.phone,
        password=payload.password,
        code=payload.code,
        nickname=payload.nickname,
        client_ip=client_ip(request),
    )
    claim_cookie_referral(request, response, user)
    return Status(201, {"token": _token_for(request, user), "user": user})


@router.post("/auth/password-reset", response=TokenOut, auth=None)
def reset_password(request, response: HttpResponse, payload: PasswordResetIn):
    """Set a forgotten password with the code from `/auth/sms-code` (purpose
    `reset_password`); answers signed in (the first sign-in of a member a store's till
    enrolled). Every earlier token of the account is revoked. A wrong, expired or missing
    code and a number without an account: 400 SMS_CODE_INVALID."""
    _require_json(request)
    user = accounts.reset_password(
        phone=payload.phone, code=payload.code, password=payload.password, client_ip=client_ip(request)
    )
    claim_cookie_referral(request, response, user)
    return {"token": _token_for(request, user), "user": user}


@router.post("/auth/login", response=TokenOut, auth=None)
def login(request, response: HttpResponse, payload: LoginIn, session: bool = False):
    """Returns a bearer token; with `?session=true` the H5 session is signed in as well
    (same-origin only, with the CSRF token). Give `phone` or, for staff, `username`."""
    _require_json(request)
    if session:
        _require_same_origin(request)
    if bool(payload.phone) == bool(payload.username):
        raise InvalidInput(_("请填写手机号或用户名其中一项"))
    if payload.phone:
        user = accounts.login_with_phone(
            phone=payload.phone, password=payload.password, client_ip=client_ip(request), request=request
        )
    else:
        user = accounts.login_with_username(
            username=payload.username,
            password=payload.password,
            client_ip=client_ip(request),
            request=request,
        )
    claim_cookie_referral(request, response, user)
    if session:
        # The session sign-in notes the device (the user_logged_in receiver).
        session_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return {"token": accounts.issue_token(user), "user": user}
    return {"token": _token_for(request, user), "user": user}


# WeChat unreachable is a documented answer here: the mini-program shows "retry later".
WECHAT_UNAVAILABLE = {
    "503": {
        "description": "暂时无法连接微信，请稍后重试",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
}


@router.post(
    "/auth/wechat-miniprogram",
    response={200: TokenOut, 201: TokenOut},
    auth=None,
    openapi_extra={"responses": WECHAT_UNAVAILABLE},
)
def wechat_miniprogram_sign_in(request, payload: WechatMiniProgramIn):
    """Sign in from the merchant's WeChat mini-program with the code of `wx.login`. A WeChat
    user not bound to an account yet is answered 409 PHONE_REQUIRED: the mini-program then
    shows the `getPhoneNumber` button and sends a new `wx.login` code with its `phone_code`,
    which signs in the account of that (WeChat-verified) number, or makes one (201). `ref`
    is the referral code of the distributor's share the user came by, bound as a visit
    through that share is. Staff accounts cannot sign in this way (403)."""
    _require_json(request)
    user, created = wechat_miniprogram.sign_in(
        code=payload.code, phone_code=payload.phone_code, client_ip=client_ip(request)
    )
    if payload.ref:
        # As a web sign-in claims the share cookie: the same binding rules decide.
        binding.claim_referral(user, payload.ref, payload.ref_source)
    return Status(201 if created else 200, {"token": _token_for(request, user), "user": user})


@router.post("/auth/logout", response={204: None}, auth=buyer_auth)
def logout(request):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        accounts.revoke_token(header.split(" ", 1)[1].strip())
    return Status(204, None)


@router.get("/me", response=UserOut, auth=buyer_auth)
def me(request):
    return request.user


@router.patch("/me", response=UserOut, auth=buyer_auth)
def update_me(request, payload: ProfileIn):
    return accounts.update_profile(
        request.user, nickname=payload.nickname, accepts_marketing=payload.accepts_marketing
    )


@router.get("/me/wallet", response=WalletOut, auth=buyer_auth)
def my_wallet(request):
    """The buyer's store credit: commission withdrawn to 商城余额 and refunds of what it
    paid come in, checkouts that use it take out."""
    return {"balance": wallet.balance(request.user.pk)}


@router.get("/me/wallet/entries", response=list[WalletEntryOut], auth=buyer_auth)
@paginate(KeysetPagination, page_size=20)
def my_wallet_entries(request):
    """商城余额明细, newest first; pass the reply's `next` as `before` for the next page."""
    return wallet.entries(request.user.pk)


@router.post("/me/password", response=TokenOut, auth=buyer_auth)
def change_password(request, payload: PasswordChangeIn):
    """Change the password (the old one is needed). Every token of the account is revoked,
    this one too: the answer carries the new token to use from now on."""
    _require_json(request)
    accounts.change_password(request.user, old_password=payload.old_password, password=payload.password)
    return {"token": accounts.issue_token(request.user), "user": request.user}


@router.get("/addresses", response=list[AddressOut], auth=buyer_auth)
def list_addresses(request):
    return list(request.user.addresses.all())


@router.post("/addresses", response={201: AddressOut}, auth=buyer_auth)
def create_address(request, payload: AddressIn):
    return Status(201, addresses.save_address(request.user, payload.dict()))


@router.put("/addresses/{address_id}", response=AddressOut, auth=buyer_auth)
def update_address(request, address_id: int, payload: AddressIn):
    return addresses.save_address(request.user, payload.dict(), address_id=address_id)


@router.delete("/addresses/{address_id}", response={204: None}, auth=buyer_auth)
def delete_address(request, address_id: int):
    addresses.delete_address(request.user, address_id)
    return Status(204, None)
