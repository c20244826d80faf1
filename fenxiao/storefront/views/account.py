"""Sign in and register by phone, 我的 page, address book."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fenxiao.core.errors import DomainError
from fenxiao.core.http import client_ip, is_site_path
from fenxiao.customers.models import Address, WalletEntry
from fenxiao.customers.services import accounts, addresses, sms_codes, wechat_oauth
from fenxiao.customers.sms import get_sms_gateway
from fenxiao.distribution.services import distributors
from fenxiao.distribution.views import claim_cookie_referral
from fenxiao.orders.models import OPEN_AFTER_SALE, AfterSale, Fulfilment, Order, OrderStatus
from fenxiao.shipping import regions
from fenxiao.stores.models import StoreStaff
from fenxiao.stores.services import my_store

from .common import safe_next
from .orders import PICKUP_TAB

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _signed_in(request, user):
    login(request, user, backend=BACKEND)
    response = redirect(safe_next(request, "/me/"))
    claim_cookie_referral(request, response, user)
    return response


def wechat_auth_return(request):
    """WeChat sends the buyer back here with a code for their openid (see `wechat_oauth`)."""
    pending = request.session.get(wechat_oauth.SESSION_PENDING) or {}
    try:
        next_path = wechat_oauth.complete(
            request, code=request.GET.get("code", ""), state=request.GET.get("state", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
        back = pending.get("next") or "/"
        return redirect(back if is_site_path(back) else "/")
    return redirect(next_path)


def login_page(request):
    if request.method == "POST":
        try:
            user = accounts.login_with_phone(
                phone=request.POST.get("phone", ""),
                password=request.POST.get("password", ""),
                client_ip=client_ip(request),
                request=request,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            return _signed_in(request, user)
    return render(request, "storefront/account/login.html", {"next": safe_next(request, "/me/")})


REGISTER_FIELDS = ("phone", "nickname", "code")


def register_page(request):
    """Sign up with a code texted to the phone. "获取验证码" posts `action=send_code` (by
    htmx, answered with just the notice; without JavaScript, the whole page); in demo mode
    the notice shows the sandbox message, since no real SMS is sent."""
    typed = {field: request.POST.get(field, "") for field in REGISTER_FIELDS}
    context = {"next": safe_next(request, "/me/"), "typed": typed}
    if request.method == "POST" and request.POST.get("action") == "send_code":
        if sent := _code_step(request, typed["phone"], sms_codes.request_register_code, context):
            return sent
    elif request.method == "POST":
        if request.POST.get("password") != request.POST.get("password2"):
            messages.error(request, _("两次输入的密码不一致"))
        else:
            try:
                user = accounts.register_buyer(
                    phone=typed["phone"],
                    password=request.POST.get("password", ""),
                    # Typed on a full-width keyboard (１２３４５６), the code used to count
                    # as a wrong try.
                    code=typed["code"],
                    nickname=typed["nickname"],
                    client_ip=client_ip(request),
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("注册成功"))
                return _signed_in(request, user)
    return render(request, "storefront/account/register.html", context)


RESET_FIELDS = ("phone", "code")


def password_reset_page(request):
    """忘记密码: a new password with a code texted to the phone, then signed in. The code is
    asked for as on the register page (htmx `action=send_code`)."""
    typed = {field: request.POST.get(field, "") for field in RESET_FIELDS}
    context = {"next": safe_next(request, "/me/"), "typed": typed}
    if request.method == "POST" and request.POST.get("action") == "send_code":
        if sent := _code_step(request, typed["phone"], sms_codes.request_reset_code, context):
            return sent
    elif request.method == "POST":
        if request.POST.get("password") != request.POST.get("password2"):
            messages.error(request, _("两次输入的密码不一致"))
        else:
            try:
                user = accounts.reset_password(
                    phone=typed["phone"],
                    code=typed["code"],
                    password=request.POST.get("password", ""),
                    client_ip=client_ip(request),
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("密码已重置，已为您登录"))
                return _signed_in(request, user)
    return render(request, "storefront/account/password_reset.html", context)


@login_required
def settings_page(request):
    """账号设置: the nickname, whether marketing may come by SMS / WeChat, and a new
    password (the old one is needed)."""
    if request.method == "POST" and request.POST.get("action") == "profile":
        accounts.update_profile(request.user, nickname=request.POST.get("nickname", ""))
        messages.success(request, _("昵称已保存"))
        return redirect("/me/settings/")
    if request.method == "POST" and request.POST.get("action") == "marketing":
        accepts = request.POST.get("accepts_marketing") == "1"
        accounts.update_profile(request.user, accepts_marketing=accepts)
        messages.success(request, _("已开启活动推送") if accepts else _("已关闭活动推送，仍可在消息中心查看"))
        return redirect("/me/settings/")
    if request.method == "POST" and request.POST.get("action") == "password":
        if request.POST.get("password") != request.POST.get("password2"):
            messages.error(request, _("两次输入的新密码不一致"))
        else:
            try:
                accounts.change_password(
                    request.user,
                    old_password=request.POST.get("old_password", ""),
                    password=request.POST.get("password", ""),
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                update_session_auth_hash(request, request.user)  # this browser stays signed in
                messages.success(request, _("密码已修改，其他设备需要重新登录"))
                return redirect("/me/settings/")
    return render(request, "storefront/account/settings.html")


def _code_step(request, phone: str, send, context: dict):
    """获取验证码 (`action=send_code`): by htmx, answered with just the notice; without
    JavaScript, the notice goes into the whole page's `context` (and None is returned)."""
    notice = _send_code(request, phone, send)
    if request.htmx:
        return render(request, "storefront/account/sms_notice.html", notice)
    context.update(notice)
    return None


def _send_code(request, phone: str, send) -> dict:
    try:
        phone = accounts.normalise_phone(phone)
        message = send(phone=phone, client_ip=client_ip(request))
    except DomainError as error:
        return {"sms_error": error.message}
    notice = {"sms_sent": _("验证码已发送"), "resend_after": settings.SMS_CODE_PHONE_INTERVAL_SECONDS}
    if get_sms_gateway(message.gateway).shows_messages_on_page:
        notice["sandbox_text"] = message.text
    return notice


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/")


@login_required
def me(request):
    counts = {}
    by_state = Order.objects.filter(buyer=request.user).values_list("status", "fulfilment")
    for status, fulfilment, n in by_state.annotate(n=Count("pk")).order_by():
        waiting_at_store = status == OrderStatus.PENDING_SHIPMENT and fulfilment == Fulfilment.PICKUP
        key = PICKUP_TAB if waiting_at_store else status
        counts[key] = counts.get(key, 0) + n
    wallet = WalletEntry.objects.filter(user=request.user).aggregate(s=Sum("amount"))["s"] or 0
    # Store staff (店长, 导购) reach their store page and the pickup counter from here.
    works_in_store = StoreStaff.objects.filter(user=request.user, is_active=True).exists()
    # A store member (scanned its or a 导购's QR, registered by its till) reaches 我的门店.
    member_store = my_store.current_store_name(request.user)
    return render(
        request,
        "storefront/account/me.html",
        {
            "counts": counts,
            "open_after_sales": AfterSale.objects.filter(
                order__buyer=request.user, status__in=OPEN_AFTER_SALE
            ).count(),
            "wallet": wallet,
            "distributor": distributors.for_user(request.user),
            "works_in_store": works_in_store,
            "member_store": member_store,
            "tab": "me",
        },
    )


@login_required
def address_list(request):
    return render(
        request,
        "storefront/account/addresses.html",
        {"addresses": Address.objects.filter(user=request.user), "next": safe_next(request, "")},
    )


@login_required
def address_form(request, address_id: int | None = None):
    instance = addresses.get_address(request.user, address_id) if address_id else None
    if request.method == "POST":
        data = {f: request.POST.get(f, "") for f in addresses.ADDRESS_FIELDS}
        data["is_default"] = bool(request.POST.get("is_default"))
        try:
            saved = addresses.save_address(request.user, data, address_id=address_id)
        except DomainError as error:
            messages.error(request, error.message)
            instance = Address(**data)
        else:
            messages.success(request, _("地址已保存"))
            return redirect(_choosing(safe_next(request, "/me/addresses/"), saved.pk))
    return render(
        request,
        "storefront/account/address_form.html",
        {
            "address": instance,
            "editing": address_id,
            "next": safe_next(request, ""),
            "regions": regions.picker_options(instance.province, instance.city)
            if instance
            else regions.picker_options(),
        },
        status=400 if request.method == "POST" else 200,
    )


def _choosing(target: str, address_id: int) -> str:
    """Back at 确认订单 after adding (or editing) an address from there: that address is
    the one chosen, not the default the page would otherwise pick."""
    parts = urlsplit(target)
    if parts.path != "/checkout/":
        return target
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "address"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("address", str(address_id))])))


@login_required
@require_POST
def address_delete(request, address_id: int):
    try:
        addresses.delete_address(request.user, address_id)
        messages.success(request, _("地址已删除"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("/me/addresses/")
