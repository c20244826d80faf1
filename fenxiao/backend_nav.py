"""The merchant backend's settings for django-unfold: title, dashboard and the sidebar, each
entry shown only to staff who may open its page. Read by `settings.UNFOLD`; the sandbox
entries appear only when the sandbox payment gateway or SMS gateway is configured."""

from django.urls import reverse_lazy
from django.utils.translation import pgettext_lazy


def _may_open(app_label: str, model: str):
    """Sidebar entries show only to staff who may open the page (view or change)."""

    def check(request) -> bool:
        user = request.user
        return user.has_perm(f"{app_label}.view_{model}") or user.has_perm(f"{app_label}.change_{model}")

    return check


def _nav(title, icon: str, model_label: str) -> dict:
    app_label, model = model_label.split(".")
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(f"admin:{app_label}_{model}_changelist"),
        "permission": _may_open(app_label, model),
    }


def _has_perm(permission: str):
    def check(request) -> bool:
        return request.user.has_perm(permission)

    return check


def _report(title, icon: str, key: str) -> dict:
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy("analytics_report", args=[key]),
        "permission": _has_perm(f"analytics.view_{key}_report"),
    }


def _may_open_job_center(request) -> bool:
    from fenxiao.core.jobs import may_open_job_center

    return may_open_job_center(request.user)


def _may_open_compliance(request) -> bool:
    from fenxiao.distribution.admin.compliance import may_view

    return may_view(request.user)


def _staff_list_link():
    from django.urls import reverse
    from django.utils.functional import lazy

    return lazy(lambda: reverse("admin:customers_user_changelist") + "?is_staff__exact=1", str)()


def unfold_settings(*, payment_gateways, sms_gateway: str) -> dict:
    return {
        "SITE_TITLE": pgettext_lazy("menu", "分销商城后台"),
        "SITE_HEADER": pgettext_lazy("menu", "分销商城"),
        "SITE_SYMBOL": "storefront",
        "SHOW_LANGUAGES": True,
        # The backend home is 经营概况: figures, trend and to-dos (fenxiao/analytics/admin/).
        "DASHBOARD_CALLBACK": "fenxiao.analytics.admin.views.dashboard_callback",
        "SIDEBAR": {
            "show_search": True,
            "show_all_applications": True,
            "navigation": [
                {
                    "title": pgettext_lazy("menu", "数据"),
                    "items": [
                        {
                            "title": pgettext_lazy("menu", "经营概况"),
                            "icon": "dashboard",
                            "link": reverse_lazy("admin:index"),
                        },
                        _report(pgettext_lazy("menu", "销售报表"), "bar_chart", "sales"),
                        _report(pgettext_lazy("menu", "分销报表"), "hub", "distribution"),
                        _report(pgettext_lazy("menu", "流量报表"), "travel_explore", "traffic"),
                        _report(pgettext_lazy("menu", "门店报表"), "storefront", "stores"),
                        {
                            "title": pgettext_lazy("menu", "任务中心"),
                            "icon": "pending_actions",
                            "link": reverse_lazy("admin:core_job_changelist"),
                            "permission": _may_open_job_center,
                        },
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "商品"),
                    "items": [
                        _nav(pgettext_lazy("menu", "商品"), "inventory_2", "catalog.product"),
                        _nav(pgettext_lazy("menu", "首页轮播图"), "view_carousel", "storefront.banner"),
                        _nav(pgettext_lazy("menu", "商品分类"), "category", "catalog.category"),
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "订单"),
                    "items": [
                        _nav(pgettext_lazy("menu", "订单"), "receipt_long", "orders.order"),
                        _nav(pgettext_lazy("menu", "售后"), "assignment_return", "orders.aftersale"),
                        _nav(pgettext_lazy("menu", "商品评价"), "reviews", "orders.productreview"),
                        _nav(pgettext_lazy("menu", "支付记录"), "payments", "payments.payment"),
                        _nav(pgettext_lazy("menu", "退款记录"), "currency_yuan", "payments.refund"),
                        _nav(
                            pgettext_lazy("menu", "支付通知"), "notifications", "payments.paymentnotification"
                        ),
                        _nav(
                            pgettext_lazy("menu", "被拒通知统计"),
                            "gpp_bad",
                            "payments.refusednotificationtally",
                        ),
                        *(
                            [_nav(pgettext_lazy("menu", "沙箱交易"), "science", "payments.sandboxtrade")]
                            if "sandbox" in payment_gateways
                            else []
                        ),
                        _nav(
                            pgettext_lazy("menu", "运费模板"), "local_shipping", "shipping.shippingtemplate"
                        ),
                        _nav(pgettext_lazy("menu", "订单设置"), "settings", "orders.ordersettings"),
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "门店"),
                    "items": [
                        _nav(pgettext_lazy("menu", "门店"), "storefront", "stores.store"),
                        {
                            "title": pgettext_lazy("menu", "核销提货码"),
                            "icon": "qr_code_scanner",
                            "link": reverse_lazy("stores_pickup_verify"),
                            "permission": _has_perm("stores.verify_pickup"),
                        },
                        _nav(pgettext_lazy("menu", "门店码与导购"), "qr_code_2", "stores.storeqr"),
                        _nav(pgettext_lazy("menu", "门店员工（导购）"), "badge", "stores.storestaff"),
                        _nav(pgettext_lazy("menu", "门店库存"), "inventory", "stores.storestock"),
                        _nav(pgettext_lazy("menu", "门店会员"), "card_membership", "stores.storemember"),
                        _nav(pgettext_lazy("menu", "门店销售"), "point_of_sale", "stores.offlinesale"),
                        _nav(pgettext_lazy("menu", "收银系统密钥"), "key", "stores.posapikey"),
                        _nav(pgettext_lazy("menu", "门店设置"), "settings", "stores.storesettings"),
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "营销"),
                    "items": [
                        _nav(pgettext_lazy("menu", "营销活动"), "campaign", "promotions.promotion"),
                        _nav(pgettext_lazy("menu", "优惠券"), "confirmation_number", "promotions.coupon"),
                        _nav(pgettext_lazy("menu", "发券记录"), "history", "promotions.couponissue"),
                        _nav(pgettext_lazy("menu", "买家优惠券"), "wallet", "promotions.buyercoupon"),
                        _nav(pgettext_lazy("menu", "拼团"), "groups", "promotions.groupbuy"),
                        _nav(pgettext_lazy("menu", "定向推送"), "send", "promotions.push"),
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "分销"),
                    "items": [
                        _nav(pgettext_lazy("menu", "分销商"), "groups", "distribution.distributor"),
                        _nav(pgettext_lazy("menu", "佣金记录"), "paid", "distribution.commission"),
                        _nav(
                            pgettext_lazy("menu", "结算批次"),
                            "account_balance",
                            "distribution.settlementbatch",
                        ),
                        _nav(pgettext_lazy("menu", "提现"), "currency_exchange", "distribution.withdrawal"),
                        _nav(pgettext_lazy("menu", "风控审核"), "gpp_maybe", "distribution.riskreview"),
                        _nav(pgettext_lazy("menu", "风控信任名单"), "verified", "distribution.risktrust"),
                        _nav(pgettext_lazy("menu", "掉单申诉"), "report", "distribution.orderclaim"),
                        _nav(pgettext_lazy("menu", "每日对账"), "fact_check", "distribution.reconciliation"),
                        {
                            "title": pgettext_lazy("menu", "合规概览"),
                            "icon": "verified_user",
                            "link": reverse_lazy("distribution_compliance"),
                            "permission": _may_open_compliance,
                        },
                        _nav(pgettext_lazy("menu", "客户关系"), "link", "distribution.customerbinding"),
                        _nav(
                            pgettext_lazy("menu", "分销等级"),
                            "military_tech",
                            "distribution.distributorgrade",
                        ),
                        _nav(pgettext_lazy("menu", "佣金规则"), "rule", "distribution.commissionrule"),
                        _nav(pgettext_lazy("menu", "销售额阶梯奖励"), "stairs", "distribution.salestier"),
                        _nav(pgettext_lazy("menu", "分销设置"), "tune", "distribution.distributionsettings"),
                        _nav(pgettext_lazy("menu", "定时生效"), "schedule", "distribution.scheduledchange"),
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "消息"),
                    "items": [
                        _nav(pgettext_lazy("menu", "站内消息"), "mail", "notices.message"),
                        _nav(pgettext_lazy("menu", "通知发送记录"), "outbox", "notices.delivery"),
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "开发者"),
                    "items": [
                        _nav(pgettext_lazy("menu", "Webhooks"), "webhook", "webhooks.endpoint"),
                        _nav(
                            pgettext_lazy("menu", "Webhook 投递记录"), "send_and_archive", "webhooks.delivery"
                        ),
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "客户"),
                    "items": [
                        _nav(pgettext_lazy("menu", "客户"), "person", "customers.customer"),
                        _nav(pgettext_lazy("menu", "客户标签"), "sell", "customers.tag"),
                        _nav(pgettext_lazy("menu", "客户分群"), "groups_2", "customers.segment"),
                        _nav(
                            pgettext_lazy("menu", "商城余额流水"),
                            "account_balance_wallet",
                            "customers.walletentry",
                        ),
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "设置"),
                    "items": [
                        {
                            "title": pgettext_lazy("menu", "快速开店"),
                            "icon": "rocket_launch",
                            "link": reverse_lazy("shopsetup_wizard"),
                            "permission": lambda request: request.user.is_superuser,
                        },
                    ],
                },
                {
                    "title": pgettext_lazy("menu", "员工"),
                    "items": [
                        {
                            **_nav(pgettext_lazy("menu", "员工"), "badge", "customers.user"),
                            # The user list opened on staff accounts; buyers are under 客户.
                            "link": _staff_list_link(),
                        },
                        _nav(pgettext_lazy("menu", "员工角色"), "group", "auth.group"),
                        # The outbox: with the sandbox the only record of a message; with a real
                        # gateway where a message that could not be sent says why.
                        *(
                            [
                                _nav(
                                    pgettext_lazy("menu", "沙箱短信")
                                    if sms_gateway == "sandbox"
                                    else pgettext_lazy("menu", "短信发送记录"),
                                    "sms",
                                    "customers.smsmessage",
                                )
                            ]
                            if sms_gateway
                            else []
                        ),
                    ],
                },
            ],
        },
    }
