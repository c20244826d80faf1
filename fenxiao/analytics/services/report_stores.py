"""门店报表: each store's members, new members, paid online orders and their sales, and
its till sales (pushed by its POS) in the period; each 导购's members, orders, sales and
commission.

Read straight from the tables with a fixed number of grouped queries (6, and 6 more for
the period before that the cards compare with) whatever the period: store members by
(store, 导购) on the `store_member_current` index, the period's paid orders from the
`order_paid_at` index grouped by (level-1 seller, pickup store), the period's till sales
from the `sold_at` index grouped by store, and the period's commission from
`commission_created_at`. The result rows are bounded by stores × staff, not by orders; a
shop whose period holds millions of orders would want a daily aggregate (like `SalesDay`),
which this report can switch to without changing its shape.

An order counts for a store when it was picked up there (once orders carry
`pickup_store_id`), else when its level-1 seller is the store's own account or one of its
staff (the first store by id, for a 导购 in several).
"""

from django.db.models import Case, Count, F, Q, Sum, When
from django.urls import reverse
from django.utils.translation import gettext as _

from fenxiao.core.days import day_bounds
from fenxiao.distribution.models import Commission, CommissionStatus
from fenxiao.orders.models import Order
from fenxiao.stores.models import OfflineSale, Store, StoreMember, StoreStaff

from .periods import Period
from .shapes import FEN, Column, Metric, Report, Table


def _has_pickup_store() -> bool:
    return any(f.attname == "pickup_store_id" for f in Order._meta.concrete_fields)


def _figures(period: Period):
    start, end = day_bounds(period.start, period.end)
    stores = list(Store.objects.order_by("sort_order", "id"))
    # Staff in the stores' own order (as 门店概况 lists them), each store's 店长 first.
    manager_first = Case(When(role=StoreStaff.Role.MANAGER, then=0), default=1)
    staff = list(
        StoreStaff.objects.select_related("user__distributor", "store").order_by(
            "store__sort_order", "store_id", manager_first, "id"
        )
    )
    by_store = {
        s.pk: {
            "store": s.name,
            # The store's page (its 门店码, 会员 and 销售 are a click on from there).
            "url": reverse("admin:stores_store_change", args=[s.pk]),
            "members": 0,
            "new_members": 0,
            "orders": 0,
            "sales": 0,
            "till_sales": 0,
            "till_amount": 0,
        }
        for s in stores
    }
    by_staff = {
        s.pk: {
            "store": s.store.name,
            "guide": s.user.display_name + ("" if s.is_active else _("（已离职）")),
            # Who a row is: a guide with no nickname reads as a masked phone (139****0041),
            # the code is theirs alone and finds them on 门店员工.
            "code": s.code or "",
            "url": reverse("admin:stores_storestaff_change", args=[s.pk]),
            "role": s.get_role_display(),
            "members": 0,
            "new_members": 0,
            "orders": 0,
            "sales": 0,
            "commission": 0,
        }
        for s in staff
    }
    seller_store, seller_staff = {}, {}
    for s in stores:
        if s.distributor_id:
            seller_store.setdefault(s.distributor_id, s.pk)
    # A person on the staff of several stores sells for the first by id, whatever the order
    # the table lists them in.
    for s in sorted(staff, key=lambda s: (s.store_id, s.pk)):
        distributor = getattr(s.user, "distributor", None) if hasattr(s.user, "distributor") else None
        if distributor is not None:
            seller_store.setdefault(distributor.pk, s.store_id)
            seller_staff.setdefault(distributor.pk, s.pk)

    members = (
        StoreMember.objects.filter(is_current=True)
        .values("store_id", "staff_id")
        .order_by()
        .annotate(total=Count("pk"), new=Count("pk", filter=Q(joined_at__gte=start, joined_at__lt=end)))
    )
    for row in members:
        for bucket in (by_store.get(row["store_id"]), by_staff.get(row["staff_id"])):
            if bucket is not None:
                bucket["members"] += row["total"]
                bucket["new_members"] += row["new"]

    has_pickup = _has_pickup_store()
    # `or [0]` (no such id): an empty IN list would skip the query, and the page's query
    # count is meant to be the same whatever the data.
    where = Q(attribution__level1_id__in=list(seller_store) or [0])
    group = ["attribution__level1_id"]
    if has_pickup:
        where |= Q(pickup_store_id__isnull=False)
        group.append("pickup_store_id")
    orders = (
        Order.objects.filter(where, paid_at__gte=start, paid_at__lt=end)
        .values(*group)
        .order_by()
        .annotate(orders=Count("pk"), sales=Sum(F("paid_amount") - F("refunded_amount")))
    )
    for row in orders:
        seller = row["attribution__level1_id"]
        store_id = row.get("pickup_store_id") or seller_store.get(seller)
        for bucket in (by_store.get(store_id), by_staff.get(seller_staff.get(seller))):
            if bucket is not None:
                bucket["orders"] += row["orders"]
                bucket["sales"] += row["sales"] or 0

    # Sales at the store's till: net of the till's returns, as online sales are of refunds.
    till = (
        OfflineSale.objects.filter(sold_at__gte=start, sold_at__lt=end)
        .values("store_id")
        .order_by()
        .annotate(count=Count("pk"), net=Sum(F("total") - F("refunded_amount")))
    )
    for row in till:
        if bucket := by_store.get(row["store_id"]):
            bucket["till_sales"] += row["count"]
            bucket["till_amount"] += row["net"] or 0

    earned = (
        Commission.objects.filter(
            distributor_id__in=list(seller_staff) or [0], created_at__gte=start, created_at__lt=end
        )
        .exclude(status=CommissionStatus.CANCELLED)
        .values("distributor_id")
        .order_by()
        .annotate(net=Sum(F("amount") - F("reversed_amount")))
    )
    for row in earned:
        by_staff[seller_staff[row["distributor_id"]]]["commission"] += row["net"] or 0
    return list(by_store.values()), list(by_staff.values())


def _sum(rows, key):
    return sum(r[key] for r in rows)


def build(period: Period, options: dict) -> list[Report]:
    stores, staff = _figures(period)
    # The period before, for the cards' comparison (the same fixed queries once more).
    before, _staff = _figures(period.previous())
    columns = [
        Column("store", _("门店"), text=True, link="url", link_permission="stores.view_store"),
        Column("members", _("会员数")),
        Column("new_members", _("新增会员")),
        Column("orders", _("付款订单")),
        Column("sales", _("销售额"), FEN),
        Column("till_sales", _("收银笔数")),
        Column("till_amount", _("收银销售额"), FEN),
    ]
    totals = {
        "store": _("合计"),
        **{
            k: _sum(stores, k)
            for k in ("members", "new_members", "orders", "sales", "till_sales", "till_amount")
        },
    }
    metrics = [
        # Members are counted as they stand today: there is nothing to compare them with.
        Metric("members", _("门店会员"), totals["members"], None),
        Metric("new_members", _("新增会员"), totals["new_members"], _sum(before, "new_members")),
        Metric("orders", _("门店订单"), totals["orders"], _sum(before, "orders")),
        Metric("sales", _("门店销售额"), totals["sales"], _sum(before, "sales"), FEN),
        Metric("till_amount", _("收银销售额"), totals["till_amount"], _sum(before, "till_amount"), FEN),
    ]
    overview = Report(
        "stores-overview",
        _("门店概况"),
        period,
        metrics,
        None,
        # No store yet: no period brings one; adding a store does.
        Table(
            columns,
            stores,
            totals,
            empty_text=_("还没有门店：新增门店后，这里按门店统计会员、订单与收银销售"),
            empty_action=(_("新增门店"), reverse("admin:stores_store_add"), "stores.add_store"),
        ),
        _(
            "会员数为当前归属该门店的会员（首个或最新门店，按门店设置）；销售额为期内付款订单实付减退款，"
            "按自提门店，或一级分销商为门店账户/门店员工归属门店。收银为收银系统上报的期内门店销售，减门店退货。"
        ),
    )
    guide_columns = [
        Column("store", _("门店"), text=True),
        Column("guide", _("员工"), text=True, link="url", link_permission="stores.view_storestaff"),
        Column("code", _("导购码"), text=True),
        Column("role", _("岗位"), text=True),
        Column("members", _("会员数")),
        Column("new_members", _("新增会员")),
        Column("orders", _("付款订单")),
        Column("sales", _("销售额"), FEN),
        Column("commission", _("佣金"), FEN),
    ]
    guide_totals = {
        "store": _("合计"),
        "guide": "",
        "code": "",
        "role": "",
        **{k: _sum(staff, k) for k in ("members", "new_members", "orders", "sales", "commission")},
    }
    guides = Report(
        "stores-guides",
        _("导购业绩"),
        period,
        table=Table(
            guide_columns,
            staff,
            guide_totals,
            empty_text=_("还没有门店员工：在门店员工中按手机号添加店长、导购后，这里统计每人的会员与业绩"),
            empty_action=(_("添加员工"), reverse("admin:stores_storestaff_add"), "stores.add_storestaff"),
        ),
        note=_("佣金为期内产生的佣金（扣除退款冲减，不含已取消）。"),
    )
    return [overview, guides]
