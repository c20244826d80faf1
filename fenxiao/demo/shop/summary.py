"""What the demo load made, and the welcome text printed after it."""

import unicodedata
from collections import Counter
from dataclasses import dataclass

from fenxiao.catalog.models import Product, ProductImage, Sku
from fenxiao.distribution.models import Commission, CommissionStatus, Distributor
from fenxiao.orders.models import AfterSale, Order, OrderStatus
from fenxiao.promotions.models import Coupon, Promotion

from .people import Account


@dataclass(frozen=True)
class Summary:
    products: int
    listed: int
    skus: int
    images: int
    orders: Counter
    after_sales: Counter
    commissions: Counter
    distributors: list[tuple[str, str, str, str]]
    accounts: list[Account]
    promotions: list[tuple[str, str]]  # (kind, name)
    coupons: list[str]


def summarize(accounts: list[Account]) -> Summary:
    return Summary(
        products=Product.objects.count(),
        listed=Product.objects.filter(is_listed=True).count(),
        skus=Sku.objects.count(),
        images=ProductImage.objects.count(),
        orders=Counter(Order.objects.values_list("status", flat=True)),
        after_sales=Counter(AfterSale.objects.values_list("status", flat=True)),
        commissions=Counter(Commission.objects.values_list("status", flat=True)),
        distributors=[
            (
                d.user.phone or d.user.username,
                d.get_status_display(),
                d.grade.name if d.grade else "",
                d.parent.user.phone if d.parent else "",
            )
            for d in Distributor.objects.select_related("user", "grade", "parent__user").order_by("id")
        ],
        accounts=accounts,
        promotions=[(p.get_kind_display(), p.name) for p in Promotion.objects.order_by("id")],
        coupons=list(Coupon.objects.filter(claimable=True).order_by("id").values_list("name", flat=True)),
    )


def render(summary: Summary, site_url: str) -> str:
    orders = "，".join(
        f"{label} {summary.orders[value]}" for value, label in OrderStatus.choices if summary.orders[value]
    )
    lines = [
        f"演示数据已载入：{summary.products} 件商品（{summary.listed} 件在售），"
        f"{summary.skus} 个 SKU，{summary.images} 张商品图片。",
        f"订单 {sum(summary.orders.values())} 笔：{orders}；售后 {sum(summary.after_sales.values())} 笔。",
        "佣金 "
        + "，".join(
            f"{label} {summary.commissions[value]}"
            for value, label in CommissionStatus.choices
            if summary.commissions[value]
        )
        + " 笔。",
        "进行中的活动：" + "，".join(f"{kind}「{name}」" for kind, name in summary.promotions) + "。",
        "领券中心：" + "、".join(summary.coupons) + "。",
        "",
        "分销商（买家账号同时是分销商）",
        *_table([("手机号", "状态", "等级", "上级")] + summary.distributors),
        "",
        *render_addresses(site_url),
        "",
        "演示账号",
        *_table(
            [("角色", "账号", "密码", "")]
            + [
                (a.role, a.login, a.password, "" if a.created else "（已存在，未改动）")
                for a in summary.accounts
            ]
        ),
    ]
    return "\n".join(lines)


def render_addresses(site_url: str) -> list[str]:
    return [
        "访问地址",
        *_table(
            [
                ("商城首页", f"{site_url}/"),
                ("分销中心", f"{site_url}/d/"),
                ("商家后台", f"{site_url}/backend/"),
                ("接口文档", f"{site_url}/api/docs"),
            ]
        ),
    ]


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]
