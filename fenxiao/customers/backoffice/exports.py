"""The customer list and the 商城余额流水 list as CSV (UTF-8 with BOM) or Excel, written by
`core/tabular.py` (no cell starts a formula). Phones are masked unless the staff member may
see them, exactly as on the page."""

from django.conf import settings
from django.utils import translation

from fenxiao.core.exports import Export, id_chunks, in_order
from fenxiao.core.tabular import money_cell, time_cell

from ..models import WalletEntry
from .listing import PHONE_PERMISSION, customers_queryset, may_see_phones, phone_text, row
from .wallet import source_of, with_balance_after

HEADERS = [
    "客户ID",
    "昵称",
    "手机号",
    "注册时间",
    "注册来源",
    "绑定分销商",
    "付款订单数",
    "累计消费（元）",
    "最近购买",
    "标签",
    "接收活动推送",
]
WIDTHS = dict(enumerate([10, 16, 14, 20, 12, 16, 12, 16, 20, 30, 14]))


def blank(text: str) -> str:
    """What a page shows as "-" (nothing) is an empty cell in a file: written as "-" it came
    out '- (a cell starting with "-" is kept from being read as a formula)."""
    return "" if text == "-" else text


def customer_rows(queryset, user):
    # Chunks of ids, each read with the list's joins and one tag prefetch: a query count
    # that grows with the export's size / CHUNK, never per customer.
    full_phone = may_see_phones(user)
    for ids in id_chunks(queryset):
        for customer in in_order(customers_queryset().filter(pk__in=ids), ids):
            # The file is written in Chinese, as its headers are, whoever asks for it.
            with translation.override(settings.LANGUAGE_CODE):
                r = row(customer, full_phone)
            yield [
                r["id"],
                r["nickname"],
                blank(r["phone"]),
                time_cell(r["date_joined"]),
                r["source"],
                blank(r["distributor"]),
                r["paid_orders"],
                money_cell(r["total_spend"]),
                time_cell(r["last_paid_at"]),
                r["tags"],
                r["accepts_marketing"],
            ]


CUSTOMERS = Export(
    title="客户",
    name="customers",
    headers=HEADERS,
    rows=customer_rows,
    widths=WIDTHS,
    phone_permission=PHONE_PERMISSION,
)


WALLET_HEADERS = [
    "时间",
    "买家ID",
    "买家昵称",
    "手机号",
    "类型",
    "金额（元）",
    "变动后余额（元）",
    "说明",
    "关联单据",
    "单据ID",
]
WALLET_WIDTHS = dict(enumerate([20, 10, 16, 14, 12, 14, 16, 36, 10, 10]))


def wallet_entry_rows(queryset, user):
    # Chunks of ids, each read with its buyers joined and its balances summed in one query.
    full_phone = may_see_phones(user)
    for ids in id_chunks(queryset):
        chunk = with_balance_after(WalletEntry.objects.filter(pk__in=ids).select_related("user"))
        for entry in in_order(chunk, ids):
            with translation.override(settings.LANGUAGE_CODE):
                kind, label, key, _url = source_of(entry)
            yield [
                time_cell(entry.created_at),
                entry.user_id,
                entry.user.nickname,
                blank(phone_text(entry.user.phone, full_phone)),
                kind,
                money_cell(entry.amount),
                money_cell(entry.balance_after),
                entry.note,
                label,
                key,
            ]


WALLET_ENTRIES = Export(
    title="商城余额流水",
    name="wallet_entries",
    headers=WALLET_HEADERS,
    rows=wallet_entry_rows,
    widths=WALLET_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)
