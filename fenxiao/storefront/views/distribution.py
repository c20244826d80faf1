"""Distributor center: apply, dashboard, commission "why", team, rankings, withdrawals,
missing-order claims (掉单申诉), and sharing (link, QR code, poster, share text) of the
shop, a product or a coupon."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from django.views.decorators.http import require_POST

from fenxiao.core.errors import DomainError
from fenxiao.core.money import fen_to_yuan, yuan_to_fen
from fenxiao.customers.services import wechat_oauth
from fenxiao.distribution.models import (
    CommissionStatus,
    OrderClaim,
    PayoutMethod,
    Withdrawal,
    WithdrawalStatus,
)
from fenxiao.distribution.paging import page_before
from fenxiao.distribution.payouts import pays_by_openid
from fenxiao.distribution.services import (
    agreement,
    claims,
    condition,
    config,
    dashboard,
    distributors,
    ledger,
    my_customers,
    payouts,
    settlement_cycle,
    sharing,
    withdrawals,
)

from .common import int_or_none


def _active(request):
    distributor = distributors.ensure_for_everyone_mode(request.user)
    if distributor is None or not distributor.is_active:
        return None
    return distributor


def _reading(request):
    """Active, or suspended and reading their own money (read-only)."""
    distributor = distributors.ensure_for_everyone_mode(request.user)
    if distributor is None or not distributor.sees_own_account:
        return None
    return distributor


@login_required
def center(request):
    distributor = distributors.ensure_for_everyone_mode(request.user)
    cfg = config.current()
    readable = distributor is not None and distributor.sees_own_account and request.method != "POST"
    if distributor is None or not (distributor.is_active or readable):
        if request.method == "POST":
            try:
                distributors.apply(
                    request.user,
                    real_name=request.POST.get("real_name", ""),
                    note=request.POST.get("note", ""),
                    # The version the page showed: a newer one published since is refused.
                    agreed_version=int_or_none(request.POST.get("agreed_version"))
                    if request.POST.get("agree")
                    else None,
                )
            except DomainError as error:
                messages.error(request, error.message)
                if distributor is None or not distributor.sees_own_account:
                    # A refused application keeps what the applicant typed; one who has a
                    # center to read (already a distributor) goes back to it.
                    return _apply_page(request, distributor, cfg, form=request.POST, status=400)
            else:
                messages.success(request, _("申请已提交"))
            return redirect("/d/")
        return _apply_page(request, distributor, cfg)
    return render(
        request,
        "storefront/distribution/dashboard.html",
        {
            "distributor": distributor,
            "figures": dashboard.figures(distributor),
            "withdrawing": _withdrawing(distributor),
            "link": sharing.referral_url(distributor),
            "settles": settlement_cycle.schedule_text(cfg),
            "agreement_due": agreement.needs_agreement(distributor, cfg),
            "tab": "me",
        },
    )


def _apply_page(request, distributor, cfg, *, form=None, status=200):
    terms = agreement.current(cfg)
    form = form or {}
    return render(
        request,
        "storefront/distribution/apply.html",
        {
            "distributor": distributor,
            "cfg": cfg,
            # 满足条件: how far the buyer is, so the page says what is left, not only "not yet".
            "progress": condition.progress(request.user, cfg) if cfg.enable_mode == "condition" else None,
            "payout_to": _payout_destinations(cfg),
            "form": form,
            "terms": terms,
            # A tick stays only for the version now in force: a new one must be read first.
            "agreed": bool(form.get("agree"))
            and terms is not None
            and form.get("agreed_version") == str(terms.version),
            "tab": "me",
        },
        status=status,
    )


def agreement_page(request):
    """分销商协议: the version in force, readable by anyone before applying. A distributor who
    joined without a form (or before this version) agrees here; it never blocks their
    earning or withdrawals, since the commission of sales they already made is owed."""
    cfg = config.current()
    terms = agreement.current(cfg)
    distributor = distributors.for_user(request.user)
    status = 200 if terms else 404
    if request.method == "POST":
        if distributor is None:
            return redirect("/d/")
        try:
            agreement.agree(distributor, int_or_none(request.POST.get("version")))
        except DomainError as error:
            messages.error(request, error.message)
            terms, status = agreement.current(cfg), error.status
        else:
            messages.success(request, _("已同意分销商协议"))
            return redirect("/d/")
    return render(
        request,
        "storefront/distribution/agreement.html",
        {"terms": terms, "due": agreement.needs_agreement(distributor, cfg), "tab": "me"},
        status=status,
    )


# The short names 可提现到… gives the payout methods, in the order the sentence reads best.
PAYOUT_DESTINATIONS = {
    PayoutMethod.WECHAT: pgettext_lazy("withdraw to", "微信"),
    PayoutMethod.ALIPAY: pgettext_lazy("withdraw to", "支付宝"),
    PayoutMethod.BANK: pgettext_lazy("withdraw to", "银行卡"),
    PayoutMethod.STORE_CREDIT: pgettext_lazy("withdraw to", "商城余额"),
}


def _payout_destinations(cfg) -> str:
    """微信、支付宝或银行卡: the methods the withdraw page will offer, so the apply page never
    promises one the shop has turned off."""
    order = list(PAYOUT_DESTINATIONS)
    methods = sorted(cfg.methods, key=lambda m: order.index(m) if m in order else len(order))
    names = [str(PAYOUT_DESTINATIONS.get(m) or PayoutMethod(m).label) for m in methods]
    if len(names) < 2:
        return "".join(names)
    return pgettext("list of choices", "%(items)s或%(last)s") % {
        "items": _("、").join(names[:-1]),
        "last": names[-1],
    }


# What the 收款账号 field holds for each method that asks for one.
ACCOUNT_KINDS = {
    PayoutMethod.WECHAT: pgettext_lazy("payout account", "微信号"),
    PayoutMethod.ALIPAY: pgettext_lazy("payout account", "支付宝账号"),
    PayoutMethod.BANK: pgettext_lazy("payout account", "银行卡号"),
}


def _account_form(cfg) -> dict:
    """The withdraw form's fields for the methods this shop offers: for each field, the
    methods that ask for it (the page shows the field only while one of them is chosen, and
    leaves out a field none of them asks for), and the 收款账号 label naming what it holds."""
    asks: dict[str, list[str]] = {"name": [], "account": [], "bank": []}
    for method in cfg.methods:
        for field in withdrawals.account_fields(method):
            asks[field].append(method)
    kinds = [str(ACCOUNT_KINDS[m]) for m in ACCOUNT_KINDS if m in asks["account"]]
    label = _("收款账号（%(kinds)s）") % {"kinds": "/".join(kinds)} if kinds else ""
    # Once a method is chosen, the label names only its account (收款账号（银行卡号）).
    by_method = {m: _("收款账号（%(kinds)s）") % {"kinds": ACCOUNT_KINDS[m]} for m in asks["account"]}
    return {field: " ".join(methods) for field, methods in asks.items()} | {
        "account_label": label,
        "account_labels": json.dumps(by_method, ensure_ascii=False),
    }


def _withdrawing(distributor) -> int:
    """提现中: what the distributor's withdrawals not yet paid or refused hold (待审核 and
    已审核，打款中). The hold has left the balance (可提现) and is not paid (已提现) yet, so
    without it the page would lose money in between. One query, on the distributor's own
    withdrawals; the running totals keep no such figure."""
    held = Withdrawal.objects.filter(
        distributor=distributor, status__in=[WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED]
    ).aggregate(total=Sum("amount"))
    return held["total"] or 0


@login_required
def commissions(request):
    distributor = _reading(request)
    if distributor is None:
        return redirect("/d/")
    status = request.GET.get("status", "")
    if status not in CommissionStatus.values:
        status = ""  # a tab that does not exist opens 全部, with its tab chosen
    qs = dashboard.commissions(distributor)
    if status:
        qs = qs.filter(status=status)
    # Paged by key ("older than this id"), never by page number: a page costs the same
    # however far down the distributor scrolls.
    before = int_or_none(request.GET.get("before"))
    rows, cursor = page_before(qs, before if before and before > 0 else None, 20)
    for commission in rows:
        commission.why_text = dashboard.why(commission)
    return render(
        request,
        "storefront/distribution/commissions.html",
        {
            "rows": rows,
            "next": cursor,
            "older": before is not None,
            "status": status,
            "settles": settlement_cycle.schedule_text(config.current()),
        },
    )


@login_required
def ledger_page(request):
    """资金明细: every entry that moved the balance (commission settled, clawed back,
    withdrawals held and returned), newest first, with the balance after each, so a
    distributor sees why 可提现 is what it is. Read-only, so a suspended one reads it too."""
    distributor = _reading(request)
    if distributor is None:
        return redirect("/d/")
    # Keyset paging, as for commissions: a page costs the same however long the ledger.
    before = int_or_none(request.GET.get("before"))
    before = before if before and before > 0 else None
    rows, cursor = page_before(ledger.entries(distributor.pk), before, 20)
    return render(
        request,
        "storefront/distribution/ledger.html",
        {
            "distributor": distributor,
            "available": ledger.balances(distributor.pk, rows),
            "entries": rows,
            "next": cursor,
            "older": before is not None,
            "tab": "me",
        },
    )


@login_required
def team(request):
    distributor = _active(request)
    if distributor is None:
        return redirect("/d/")
    depth = 2 if request.GET.get("depth") == "2" else 1
    # Keyset paging, as for commissions: every page costs the same however big the team.
    before = int_or_none(request.GET.get("before"))
    rows, cursor = page_before(
        dashboard.team(distributor, depth), before if before and before > 0 else None, 20
    )
    stats = dashboard.member_stats(m.pk for m in rows)
    members = [(m, stats[m.pk]) for m in rows]
    return render(
        request,
        "storefront/distribution/team.html",
        {"members": members, "depth": depth, "next": cursor, "older": before is not None},
    )


@login_required
def customers(request):
    distributor = _reading(request)
    if distributor is None:
        return redirect("/d/")
    # Keyset paging, as for the team: every page costs the same however many customers.
    before = int_or_none(request.GET.get("before"))
    before = before if before and before > 0 else None
    rows, cursor = page_before(my_customers.customers(distributor), before, 20)
    return render(
        request,
        "storefront/distribution/customers.html",
        {"customers": my_customers.page(distributor, rows), "next": cursor, "older": before is not None},
    )


@login_required
def rankings(request):
    if _active(request) is None:
        return redirect("/d/")
    by = "commission" if request.GET.get("by") == "commission" else "sales"
    period = "week" if request.GET.get("period") == "week" else "month"
    return render(
        request,
        "storefront/distribution/rankings.html",
        {"rows": dashboard.ranking(by, period), "by": by, "period": period},
    )


@login_required
def withdraw(request):
    distributor = _reading(request)
    if distributor is None:
        return redirect("/d/")
    cfg = config.current()
    if request.method == "POST" and not distributor.may_withdraw:
        messages.error(request, _("分销资格暂停期间不能提现"))
        return redirect("/d/withdraw/")
    # WeChat 商家转账 pays the WeChat user holding this browser: learn their openid silently
    # (as the pay page does) before they ask.
    by_openid = PayoutMethod.WECHAT in cfg.methods and pays_by_openid(PayoutMethod.WECHAT)
    in_wechat = "MicroMessenger" in request.headers.get("User-Agent", "")
    if request.method == "GET" and by_openid and in_wechat and wechat_oauth.should_ask(request):
        return redirect(wechat_oauth.authorize_url(request, request.path))
    if request.method == "POST":
        method = request.POST.get("method", "")
        account = {k: request.POST.get(k, "") for k in ("name", "bank", "account")}
        try:
            amount = yuan_to_fen(request.POST.get("amount") or "0")
            withdrawals.request(
                distributor,
                amount=amount,
                method=method,
                account=account,
                openid=wechat_oauth.openid_for(request) if method == PayoutMethod.WECHAT else None,
            )
        except ValueError:
            messages.error(request, _("请输入正确的金额"))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("提现申请已提交"))
            return redirect("/d/withdraw/")
    methods = [(m, PayoutMethod(m).label) for m in cfg.methods]
    available = ledger.balance(distributor.pk)
    # Keyset paging, as for commissions: the whole history stays reachable, a page at a time.
    before = int_or_none(request.GET.get("before"))
    history, cursor = page_before(
        Withdrawal.objects.filter(distributor=distributor), before if before and before > 0 else None, 20
    )
    return render(
        request,
        "storefront/distribution/withdraw.html",
        {
            "cfg": cfg,
            "settles": settlement_cycle.schedule_text(cfg),
            "distributor": distributor,
            "methods": methods,
            "available": available,
            # 全部提现 fills in what one request may take: the balance, capped at the maximum.
            "withdraw_all": fen_to_yuan(min(available, cfg.withdraw_max))
            if available >= cfg.withdraw_min
            else "",
            # This period's requests used up: the page says when they may ask again.
            "reopens_at": withdrawals.reopens_at(distributor, cfg) if distributor.may_withdraw else None,
            "history": history,
            "next": cursor,
            "older": before is not None,
            "wechat_by_openid": by_openid,
            "asks": _account_form(cfg),
            "awaiting_confirmation": any(w.payout_package for w in history),
            # A refused request keeps what the distributor typed.
            "form": request.POST if request.method == "POST" else {},
            # Else the form offers the method and account they were last paid to (or are
            # being paid to), so a bank card is not typed again for every withdrawal.
            "filled": request.POST
            if request.method == "POST"
            else ledger.remembered_account(distributor.pk, cfg.methods),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def withdrawal_confirmed(request, number: str):
    """确认收款 answered ok in WeChat: ask WeChat Pay how the transfer ended, now."""
    distributor = _reading(request)
    if distributor is None:
        return redirect("/d/")
    try:
        payouts.confirmed_by_distributor(distributor, number)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已确认收款，到账结果稍后更新"))
    return redirect("/d/withdraw/")


@login_required
def claims_page(request):
    # Reading, not only active: a decision notice links here, and a distributor suspended
    # since filing still needs to see how their claims ended.
    distributor = _reading(request)
    if distributor is None:
        return redirect("/d/")
    if request.method == "POST" and not distributor.is_active:
        messages.error(request, _("分销资格恢复正常后才能提交申诉"))
        return redirect("/d/claims/")
    if request.method == "POST":
        try:
            claims.file(
                distributor,
                order_number=request.POST.get("order_number", ""),
                phone_tail=request.POST.get("phone_tail", ""),
                reason=request.POST.get("reason", ""),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("申诉已提交，商家核实后会通知你"))
            return redirect("/d/claims/")
    # Keyset paging, as for commissions: every page is one query however many claims exist.
    before = int_or_none(request.GET.get("before"))
    mine = OrderClaim.objects.filter(distributor=distributor).select_related("order")
    rows, cursor = page_before(mine, before if before and before > 0 else None, 20)
    return render(
        request,
        "storefront/distribution/claims.html",
        {
            "distributor": distributor,
            "rows": rows,
            "next": cursor,
            "older": before is not None,
            "claim_days": claims.CLAIM_DAYS,
            # A refused claim keeps what the distributor typed.
            "form": request.POST if request.method == "POST" else {},
        },
        status=400 if request.method == "POST" else 200,
    )
