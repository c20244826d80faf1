"""门店, 门店员工, 门店会员, 门店销售 and 门店库存 as CSV (UTF-8 with BOM) or Excel, the lists as filtered and
searched (`core.admin_exports`): each store's place, manager, staff and members now; who works
where, with their 导购码 and the members they brought; a store's members for its own follow-up
(who joined, through which 导购, when); what the tills reported, for reconciling with them; and
every store's level of each SKU. Phones are masked unless the staff member may see them,
exactly as on the pages; rows are read a chunk of ids at a time, each chunk in a fixed number
of queries."""

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import translation

from fenxiao.core.exports import Export, id_chunks, in_order
from fenxiao.core.tabular import money_cell, time_cell
from fenxiao.customers.backoffice.listing import PHONE_PERMISSION, may_see_phones, phone_text

from .models import Store, StoreMember, StoreStaff, StoreStock
from .pos_models import OfflineSale

MEMBER_HEADERS = ["门店", "会员ID", "会员昵称", "手机号", "入会方式", "导购", "加入时间", "当前所属门店"]
MEMBER_WIDTHS = dict(enumerate([18, 10, 16, 14, 12, 16, 20, 12]))


def member_rows(queryset, user):
    full_phone = may_see_phones(user)
    for ids in id_chunks(queryset):
        chunk = StoreMember.objects.filter(pk__in=ids).select_related("store", "buyer", "staff__user")
        for member in in_order(chunk, ids):
            guide = member.staff.user if member.staff_id else None
            with translation.override(settings.LANGUAGE_CODE):
                source = member.get_source_display()
            yield [
                member.store.name,
                member.buyer_id,
                member.buyer.nickname,
                phone_text(member.buyer.phone, full_phone),
                source,
                (guide.nickname or phone_text(guide.phone, full_phone)) if guide else "",
                time_cell(member.joined_at),
                "是" if member.is_current else "否",
            ]


STORE_MEMBERS = Export(
    title="门店会员",
    name="store_members",
    headers=MEMBER_HEADERS,
    rows=member_rows,
    widths=MEMBER_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)


SALE_HEADERS = [
    "门店",
    "收银单号",
    "会员",
    "会员手机号",
    "金额（元）",
    "已退款（元）",
    "实收（元）",
    "商品件数",
    "销售时间",
    "接收时间",
]
SALE_WIDTHS = dict(enumerate([18, 22, 16, 14, 12, 12, 12, 10, 20, 20]))


def sale_rows(queryset, user):
    full_phone = may_see_phones(user)
    for ids in id_chunks(queryset):
        chunk = (
            OfflineSale.objects.filter(pk__in=ids)
            .select_related("store", "buyer")
            .annotate(pieces=Sum("lines__quantity"))
        )
        for sale in in_order(chunk, ids):
            member = ""
            if sale.buyer_id:
                member = sale.buyer.nickname or phone_text(sale.buyer.phone, full_phone)
            yield [
                sale.store.name,
                sale.sale_no,
                member,
                phone_text(sale.buyer_phone, full_phone) if sale.buyer_phone else "",
                money_cell(sale.total),
                money_cell(sale.refunded_amount),
                money_cell(sale.total - sale.refunded_amount),
                sale.pieces or 0,
                time_cell(sale.sold_at),
                time_cell(sale.received_at),
            ]


OFFLINE_SALES = Export(
    title="门店销售",
    name="offline_sales",
    headers=SALE_HEADERS,
    rows=sale_rows,
    widths=SALE_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)


STOCK_HEADERS = ["门店", "SKU 编码", "商品", "规格", "门店库存", "线上库存", "更新时间"]
STOCK_WIDTHS = dict(enumerate([18, 18, 30, 20, 10, 10, 20]))


def stock_rows(queryset, user):
    for ids in id_chunks(queryset):
        chunk = StoreStock.objects.filter(pk__in=ids).select_related("store", "sku__product")
        for row in in_order(chunk, ids):
            sku = row.sku
            yield [
                row.store.name,
                sku.code,
                sku.product.name if sku.product_id else "",
                sku.spec_text,
                row.stock,
                sku.stock,
                time_cell(row.updated_at),
            ]


# Every store's level of each SKU in one file (a 门店库存表 is one store's, to fill in).
STORE_STOCK = Export(
    title="门店库存",
    name="store_stock",
    headers=STOCK_HEADERS,
    rows=stock_rows,
    widths=STOCK_WIDTHS,
)


STORE_HEADERS = [
    "门店",
    "门店码",
    "省",
    "市",
    "区/县",
    "详细地址",
    "营业时间",
    "联系电话",
    "店长",
    "营业中",
    "支持到店自提",
    "在职员工",
    "当前会员",
]
STORE_WIDTHS = dict(enumerate([18, 12, 10, 10, 10, 30, 16, 14, 14, 8, 10, 10, 10]))


def _per_store(queryset, ids) -> dict[int, int]:
    rows = queryset.filter(store_id__in=ids).order_by().values("store_id").annotate(n=Count("pk"))
    return {row["store_id"]: row["n"] for row in rows}


def store_rows(queryset, user):
    """The stores as the list shows them, with what a chain's office asks of each: where it
    is, who runs it, whether buyers can pick up there, its staff and members now."""
    full_phone = may_see_phones(user)
    for ids in id_chunks(queryset):
        chunk = Store.objects.filter(pk__in=ids).select_related("manager")
        staff = _per_store(StoreStaff.objects.filter(is_active=True), ids)
        members = _per_store(StoreMember.objects.filter(is_current=True), ids)
        for store in in_order(chunk, ids):
            manager = store.manager
            yield [
                store.name,
                store.code or "",
                store.province,
                store.city,
                store.district,
                store.address_detail,
                store.hours,
                store.phone,
                (manager.nickname or phone_text(manager.phone, full_phone)) if manager else "",
                "是" if store.is_open else "否",
                "是" if store.pickup_enabled else "否",
                staff.get(store.pk, 0),
                members.get(store.pk, 0),
            ]


STORES = Export(
    title="门店",
    name="stores",
    headers=STORE_HEADERS,
    rows=store_rows,
    widths=STORE_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)


STAFF_HEADERS = ["门店", "姓名/昵称", "手机号", "角色/职务", "导购码", "在职", "加入时间", "会员数"]
STAFF_WIDTHS = dict(enumerate([18, 16, 14, 10, 12, 8, 20, 10]))


def staff_rows(queryset, user):
    """门店员工 as the list shows them: 会员数 counts the members each one brought who belong
    to the store now (the list's column), and a phone is masked as there: a guide's account
    is a buyer's, a backend account's phone is shown whole."""
    full_phone = may_see_phones(user)
    for ids in id_chunks(queryset):
        chunk = (
            StoreStaff.objects.filter(pk__in=ids)
            .select_related("store", "user")
            .annotate(member_total=Count("members", filter=Q(members__is_current=True)))
        )
        for staff in in_order(chunk, ids):
            person = staff.user
            with translation.override(settings.LANGUAGE_CODE):
                role = staff.get_role_display()
            yield [
                staff.store.name,
                person.nickname,
                phone_text(person.phone, full_phone or person.is_staff),
                role,
                staff.code or "",
                "是" if staff.is_active else "否",
                time_cell(staff.joined_at),
                staff.member_total,
            ]


STORE_STAFF = Export(
    title="门店员工",
    name="store_staff",
    headers=STAFF_HEADERS,
    rows=staff_rows,
    widths=STAFF_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)
