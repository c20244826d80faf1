"""The two ready-made staff roles, defined by what each does.

- 运营 (operations): catalog and home page, orders and shipping, after-sales, distributors
  and their review, customer binding, the distribution programme (grades, rules, settings),
  promotions and coupons.
- 财务 (finance): commissions, settlement batches, withdrawals and payouts, the distributor
  ledger, refunds (approving after-sales, retrying refunds), payments.

Each role sees, read-only, what it needs to explain its own work (finance sees orders and
distributors; operations sees commissions). The definition is code: the groups are set to
exactly these permissions after every ``migrate``, so new permissions reach them and a
removed one is taken away. A merchant who wants other powers creates a role of their own.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

OPERATIONS = "运营"
FINANCE = "财务"

# What each role does, shown on its page in the backend.
ROLE_DESCRIPTIONS = {
    OPERATIONS: _(
        "运营：商品与首页、订单发货与改价、售后、分销商审核与管理、客户绑定、分销等级/规则/设置、"
        "营销活动与优惠券、定向推送、Webhooks、客户（完整手机号）、客户标签与分群；"
        "可查看佣金，不能结算、审核提现或重试退款。"
    ),
    FINANCE: _(
        "财务：佣金、结算批次、提现审核与打款、分销商账户流水、售后退款审核与退款重试、支付记录；"
        "可查看订单、商品、分销商和客户（手机号隐去中间四位），不能发货、改价或改商品。"
    ),
}

ALL = "all"
VIEW = "view"

# app_label -> model -> ALL (every permission of the model), VIEW (view only) or a tuple of
# the permission codenames granted (the reports' permissions live on one aggregate model).
ROLE_PERMISSIONS = {
    OPERATIONS: {
        "catalog": {"category": ALL, "product": ALL, "productimage": ALL, "sku": ALL},
        "storefront": {"banner": ALL},
        "shipping": {"shippingtemplate": ALL, "shippingrule": ALL, "shippingfreerule": ALL},
        "orders": {
            "order": ALL,
            "orderline": VIEW,
            "orderevent": VIEW,
            "aftersale": ALL,
            "aftersaleline": VIEW,
            "ordersettings": ALL,
        },
        "customers": {
            "user": VIEW,
            "address": VIEW,
            # The buyer's 商城余额 on the profile: operations handles the refunds paid into it.
            "walletentry": VIEW,
            # Operations works with customers: full phone numbers, tags and segments.
            "customer": ("view_customer", "view_customer_phone"),
            "tag": ALL,
            "customertag": ALL,
            "segment": ALL,
        },
        "payments": {"payment": VIEW},
        "distribution": {
            "distributor": ALL,
            "customerbinding": ALL,
            "touch": VIEW,
            "orderattribution": VIEW,
            "distributorgrade": ALL,
            "commissionrule": ALL,
            "commissionruleversion": VIEW,
            "salestier": ALL,
            "distributionsettings": ALL,
            "settingschange": VIEW,
            "commission": VIEW,
            "commissionadjustment": VIEW,
            # 风控审核: operations clear or void what the abuse guards held, as it bans.
            "riskreview": ALL,
            "risktrust": ALL,
            # Settings and rule changes set to take effect later (and their cancelling).
            "scheduledchange": ALL,
            # 掉单申诉: operations decide who an order belongs to, as they rebind buyers.
            "orderclaim": ALL,
        },
        "analytics": {
            "dailysales": (
                "view_sales_report",
                "view_distribution_report",
                "view_traffic_report",
                "view_stores_report",
            ),
        },
        "promotions": {
            "promotion": ALL,
            "promotionitem": ALL,
            "spendtier": ALL,
            "coupon": ALL,
            "couponissue": ALL,
            "buyercoupon": VIEW,
            "groupbuy": VIEW,
            "groupmember": VIEW,
            # Targeted pushes (定向推送): write, send, cancel, read the report.
            "push": ALL,
        },
        # 消息: read what was sent, send a failed notification again.
        "notices": {"message": VIEW, "delivery": ALL},
        # 开发者 → Webhooks: endpoints, deliveries (redeliver, test push), their log.
        "webhooks": {"endpoint": ALL, "event": VIEW, "delivery": ALL, "deliveryattempt": VIEW},
        # 门店: stores, their stock and staff; verifying pickups (核销) from the H5 page.
        "stores": {
            "store": ALL,
            # 门店码与导购: the stores' QR codes, posters and 导购 rate (a page over the stores).
            "storeqr": ALL,
            "storestock": ALL,
            "storestaff": ALL,
            "storemember": VIEW,
            "storesettings": ALL,
            # The store's POS keys (created and revoked, never deleted) and the sales its till pushed.
            "posapikey": ALL,
            "offlinesale": VIEW,
            "offlinesaleline": VIEW,
        },
    },
    FINANCE: {
        "orders": {
            "order": VIEW,
            "orderline": VIEW,
            "orderevent": VIEW,
            # Approving an after-sale is what sends the refund.
            "aftersale": ALL,
            "aftersaleline": VIEW,
            "ordersettings": VIEW,
        },
        # Changing a payment is asking the gateway for its result; sandbox trades are re-notified.
        "payments": {
            "payment": ALL,
            "refund": ALL,
            "paymentnotification": VIEW,
            "refusednotificationtally": VIEW,
            "sandboxtrade": ALL,
        },
        "catalog": {"product": VIEW, "sku": VIEW},
        # Finance sees customers with masked phones (no view_customer_phone).
        "customers": {
            "user": VIEW,
            "address": VIEW,
            "walletentry": VIEW,
            "customer": ("view_customer",),
            "tag": VIEW,
        },
        "distribution": {
            "commission": VIEW,
            "commissionadjustment": VIEW,
            "settlementbatch": ALL,
            "withdrawal": ALL,
            # 每日对账: finance reads the daily results and may reconcile again (add).
            "reconciliation": ALL,
            "riskreview": ALL,
            "risktrust": ALL,
            "orderclaim": VIEW,
            "sandboxpayout": VIEW,
            "ledgerentry": VIEW,
            "distributor": VIEW,
            "customerbinding": VIEW,
            "orderattribution": VIEW,
            "distributorgrade": VIEW,
            "commissionrule": VIEW,
            "commissionruleversion": VIEW,
            "salestier": VIEW,
            "distributionsettings": VIEW,
            "settingschange": VIEW,
            "scheduledchange": VIEW,
        },
        "analytics": {"dailysales": ("view_sales_report", "view_distribution_report")},
    },
}


def role_permissions(role: str):
    """The permissions a built-in role should have, as a queryset."""
    wanted = Q(pk__in=[])
    for app_label, models in ROLE_PERMISSIONS[role].items():
        for model, scope in models.items():
            clause = Q(content_type__app_label=app_label, content_type__model=model)
            if scope == VIEW:
                clause &= Q(codename__startswith="view_")
            elif scope != ALL:
                clause &= Q(codename__in=scope)
            wanted |= clause
    return Permission.objects.filter(wanted)


def ensure_staff_groups() -> None:
    """Create the staff roles and set them to their definition; safe to run any number of times."""
    for role in ROLE_PERMISSIONS:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(role_permissions(role))
