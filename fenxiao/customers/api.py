from django.contrib.auth import login as session_login
from django.http import HttpResponse
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from fenxiao.core.http import client_ip
from fenxiao.distribution.views import claim_cookie_referral

from .auth import buyer_auth
from .services import accounts, addresses

router = Router(tags=["账号"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Strict):
    phone: str = Field(max_length=20)
    password: str = Field(max_length=128)
    nickname: str = Field(default="", max_length=40)


class LoginIn(Strict):
    phone: str = Field(max_length=20)
    password: str = Field(max_length=128)


class UserOut(Schema):
    id: int
    phone: str | None
    nickname: str
    display_name: str


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


@router.post("/auth/register", response={201: TokenOut}, auth=None)
def register(request, response: HttpResponse, payload: RegisterIn):
    user = accounts.register_buyer(phone=payload.phone, password=payload.password, nickname=payload.nickname)
    claim_cookie_referral(request, response, user)
    return Status(201, {"token": accounts.issue_token(user), "user": user})


@router.post("/auth/login", response=TokenOut, auth=None)
def login(request, response: HttpResponse, payload: LoginIn, session: bool = False):
    """Returns a bearer token; with `?session=true` the H5 session is signed in as well."""
    user = accounts.login_with_phone(
        phone=payload.phone, password=payload.password, client_ip=client_ip(request), request=request
    )
    claim_cookie_referral(request, response, user)
    if session:
        session_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return {"token": accounts.issue_token(user), "user": user}


@router.post("/auth/logout", response={204: None}, auth=buyer_auth)
def logout(request):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        accounts.revoke_token(header.split(" ", 1)[1].strip())
    return Status(204, None)


@router.get("/me", response=UserOut, auth=buyer_auth)
def me(request):
    return request.user


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
