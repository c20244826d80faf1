"""The customer profile (客户详情): read-only, in a fixed number of queries whatever the
customer's history: each section is one query limited to its latest rows, with a link to
the full list where there is one (the 商城余额 panel adds its balance: `wallet.py`)."""

import copy

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.money import format_fen

from ..models import Address
from .listing import (
    binding_of,
    distributor_text,
    figures_of,
    may_see_phones,
    phone_text,
    source_text,
    tag_names,
)
from .wallet import wallet_panel

ROWS = 20
TRAIL_ROWS = 50


def _url(name: str, *args, **query) -> str:
    url = reverse(name, args=args)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def profile_page(model_admin, request, customer):
    from fenxiao.analytics.models import ProductView
    from fenxiao.distribution.models import Distributor, Touch
    from fenxiao.distribution.services import dashboard
    from fenxiao.orders.models import AfterSale, Order

    full = may_see_phones(request)
    figures = figures_of(customer)
    orders = list(Order.objects.filter(buyer=customer).order_by("-id")[:ROWS])
    after_sales = list(
        AfterSale.objects.filter(order__buyer=customer).select_related("order").order_by("-id")[:ROWS]
    )
    addresses = list(Address.objects.filter(user=customer))
    trail = list(
        ProductView.objects.filter(buyer=customer)
        .select_related("product")
        .order_by("-last_viewed_at", "-id")[:TRAIL_ROWS]
    )
    touches = list(
        Touch.objects.filter(buyer=customer)
        .select_related("distributor__user", "staff")
        .order_by("-id")[:ROWS]
    )
    distributor = Distributor.objects.filter(user=customer).select_related("grade", "parent__user").first()
    distribution = None
    if distributor is not None:
        f = dashboard.figures(distributor)
        distribution = {
            "d": distributor,
            "url": _url("admin:distribution_distributor_change", distributor.pk),
            "figures": f,
            "money": [
                (_("推广销售额"), format_fen(f["sales"])),
                (_("推广订单"), f["orders"]),
                (_("待结算佣金（预估）"), format_fen(f["commission_pending"])),
                (_("冻结中佣金"), format_fen(f["commission_frozen"])),
                (_("已结算佣金"), format_fen(f["commission_total"] - f["commission_estimated"])),
                (_("可提现余额"), format_fen(f["commission_available"])),
                (_("已提现"), format_fen(f["commission_withdrawn"])),
                (_("团队（直属 / 间接）"), f"{f['team_direct']} / {f['team_indirect']}"),
                (_("绑定客户"), f["bound_buyers"]),
            ],
        }
    binding = binding_of(customer)
    now = timezone.now()
    # The breadcrumb and page title name the customer by str(): their phone when they have
    # no nickname, so it is masked like every other phone on the page.
    named = copy.copy(customer)
    named.phone = phone_text(customer.phone, full) if customer.phone else customer.phone
    named.username = named.phone if customer.username == customer.phone else customer.username
    request.current_app = model_admin.admin_site.name
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": named,
        "subtitle": str(named),
        "title": _("客户详情：%(name)s") % {"name": customer.nickname or phone_text(customer.phone, full)},
        "customer": customer,
        "phone": phone_text(customer.phone, full),
        "summary": [
            (_("手机号"), phone_text(customer.phone, full)),
            (_("注册时间"), f"{timezone.localtime(customer.date_joined):%Y-%m-%d %H:%M}"),
            (_("注册来源"), source_text(customer)),
            (
                _("活动推送"),
                _("接收短信推送") if customer.accepts_marketing else _("已拒收（仅站内消息）"),
            ),
            (_("绑定分销商"), distributor_text(customer)),
            (_("付款订单"), figures.paid_orders if figures else 0),
            (_("累计消费"), format_fen(figures.total_spend if figures else 0)),
            (_("累计退款"), format_fen(figures.refunded if figures else 0)),
            (
                _("最近购买"),
                f"{timezone.localtime(figures.last_paid_at):%Y-%m-%d %H:%M}"
                if figures and figures.last_paid_at
                else "-",
            ),
        ],
        "tags": tag_names(customer),
        "orders": [
            {
                "o": o,
                "url": _url("admin:orders_order_change", o.pk),
                "total": format_fen(o.total),
                "paid": format_fen(o.paid_amount) if o.paid_at else "-",
            }
            for o in orders
        ],
        "all_orders_url": _url("admin:orders_order_changelist", buyer__id__exact=customer.pk),
        "all_after_sales_url": _url("admin:orders_aftersale_changelist", order__buyer__id__exact=customer.pk),
        "after_sales": [
            {
                "a": a,
                "url": _url("admin:orders_aftersale_change", a.pk),
                "order_url": _url("admin:orders_order_change", a.order_id),
                "amount": format_fen(a.amount),
            }
            for a in after_sales
        ],
        "addresses": [{"a": a, "phone": phone_text(a.phone, full)} for a in addresses],
        "trail": trail,
        "binding": binding,
        "binding_expired": bool(binding and binding.expires_at and binding.expires_at <= now),
        "touches": touches,
        "distribution": distribution,
        "wallet": wallet_panel(request, customer),
    }
    return TemplateResponse(request, "admin/customers/customer/profile.html", context)
