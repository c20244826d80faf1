"""The to-do panel of 经营概况: what is waiting for the merchant, each count a link to the
backend list that shows exactly those rows.

Invariant: an item is shown only to a user who may act on it (the change permission of
the list it links to), its count equals the rows the linked list shows, and the panel costs
one query per visible item (plus one for the stock threshold, and one for whether the shop
offers pickup when no pickup order waits), whatever the shop's size.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from fenxiao.catalog.models import Product, Sku
from fenxiao.distribution.models import (
    ClaimStatus,
    Distributor,
    DistributorStatus,
    OrderClaim,
    RiskReview,
    RiskReviewStatus,
    SettlementBatch,
    Withdrawal,
)
from fenxiao.distribution.models.ledger import WithdrawalStatus
from fenxiao.orders.models import (
    OPEN_AFTER_SALE,
    AfterSale,
    Fulfilment,
    Order,
    OrderSettings,
    OrderStatus,
    awaiting_pickup,
)
from fenxiao.stores.models import Store


@dataclass
class Todo:
    key: str
    label: str
    count: int
    url: str
    hint: str = ""
    icon: str = "pending_actions"


def _link(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


def _pending_shipment(user):
    # Paid group-buy orders wait for their group to fill before they may ship; a paid pickup
    # order (到店自提) is never shipped: it waits at its store until staff there verify its code.
    count = Order.objects.filter(
        status=OrderStatus.PENDING_SHIPMENT, awaiting_group=False, fulfilment=Fulfilment.DELIVERY
    ).count()
    url = _link(
        "admin:orders_order_changelist",
        status__exact=OrderStatus.PENDING_SHIPMENT,
        awaiting_group__exact=0,
        fulfilment__exact=Fulfilment.DELIVERY,
    )
    return Todo("shipment", _("待发货"), count, url, _("已付款、可发货的订单"), "local_shipping")


def _pickups(user):
    # Paid 到店自提 orders waiting at their stores: not to ship, so not in 待发货, yet waiting
    # on the merchant all the same. A shop offering no pickup is shown no such item.
    count = Order.objects.filter(awaiting_pickup()).count()
    if not count and not Store.objects.filter(pickup_enabled=True).exists():
        return None
    url = _link("admin:orders_order_changelist", tab="pending_pickup")
    return Todo("pickups", _("待自提"), count, url, _("已付款、待买家到店核销提货的订单"), "storefront")


def _after_sales(user):
    statuses = OPEN_AFTER_SALE  # returns waiting for the parcel or its receipt are open too
    count = AfterSale.objects.filter(status__in=statuses).count()
    url = _link("admin:orders_aftersale_changelist", status__in=",".join(statuses))
    return Todo(
        "after_sales", _("待处理售后"), count, url, _("待处理、待收退货或退款中"), "assignment_return"
    )


def _distributors(user):
    count = Distributor.objects.filter(status=DistributorStatus.PENDING).count()
    url = _link("admin:distribution_distributor_changelist", status__exact=DistributorStatus.PENDING)
    return Todo("distributors", _("待审核分销商"), count, url, _("分销商申请"), "person_add")


def _withdrawals(user):
    count = Withdrawal.objects.filter(status=WithdrawalStatus.REQUESTED).count()
    url = _link("admin:distribution_withdrawal_changelist", status__exact=WithdrawalStatus.REQUESTED)
    return Todo("withdrawals", _("待审核提现"), count, url, _("分销商提现申请"), "currency_exchange")


def _risk_reviews(user):
    count = RiskReview.objects.filter(status=RiskReviewStatus.OPEN).count()
    url = _link("admin:distribution_riskreview_changelist", status__exact=RiskReviewStatus.OPEN)
    return Todo("risk_reviews", _("待审核风控"), count, url, _("疑似刷单或频繁退款，佣金暂扣中"), "gpp_maybe")


def _claims(user):
    count = OrderClaim.objects.filter(status=ClaimStatus.OPEN).count()
    url = _link("admin:distribution_orderclaim_changelist", status__exact=ClaimStatus.OPEN)
    return Todo("claims", _("待处理掉单申诉"), count, url, _("分销商认为应计入其业绩的订单"), "report")


def _batches(user):
    pending = SettlementBatch.Status.PENDING_REVIEW
    count = SettlementBatch.objects.filter(status=pending).count()
    url = _link("admin:distribution_settlementbatch_changelist", status__exact=pending)
    return Todo("batches", _("待审核结算批次"), count, url, _("审核后佣金入账"), "account_balance")


def _low_stock(user):
    threshold = OrderSettings.current().low_stock_threshold
    if not threshold:
        return None  # the merchant turned the warning off
    # Products, as the linked list shows them (the product list's 库存低于 filter): a
    # product with three low SKUs is one product to restock.
    low = Sku.objects.filter(product=OuterRef("pk"), is_active=True, stock__lt=threshold)
    count = Product.objects.filter(Exists(low), is_listed=True).count()
    url = _link("admin:catalog_product_changelist", is_listed__exact=1, stock_below=threshold)
    return Todo(
        "low_stock",
        _("库存预警"),
        count,
        url,
        _("上架商品中有规格库存低于 %(threshold)s 件的商品") % {"threshold": threshold},
        "inventory",
    )


# (permission to act, item builder), in the order the panel shows them.
ITEMS = [
    ("orders.change_order", _pending_shipment),
    ("orders.change_order", _pickups),
    ("orders.change_aftersale", _after_sales),
    ("distribution.change_distributor", _distributors),
    ("distribution.change_withdrawal", _withdrawals),
    ("distribution.change_riskreview", _risk_reviews),
    ("distribution.change_orderclaim", _claims),
    ("distribution.change_settlementbatch", _batches),
    ("catalog.change_product", _low_stock),
]


def for_user(user) -> list[Todo]:
    """The to-do items `user` may act on, with their counts."""
    items = []
    for permission, build in ITEMS:
        if user.has_perm(permission):
            item = build(user)
            if item is not None:
                items.append(item)
    return items
