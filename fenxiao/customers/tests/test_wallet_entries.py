"""商城余额流水: every buyer's store-credit entries for staff who may read wallets, read-only,
signed amounts in ¥ with the balance after each, the record that moved the money linked,
filtered by kind and date, searched by phone or order number, exported as the list shows
it, in a number of queries that does not grow with the rows; reached from the sidebar and
from a customer's profile."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fenxiao.customers.models import WalletEntry
from fenxiao.customers.services import wallet
from fenxiao.distribution.models import Withdrawal
from fenxiao.distribution.tests.helpers import full_refund, make_distributor, sku
from fenxiao.orders.models import AfterSale, Order
from fenxiao.orders.services import checkout
from fenxiao.testing import (
    english_backend_page,
    in_english,
    login,
    make_address,
    make_buyer,
    make_product,
    make_staff,
)

from .crm import finance, operations

pytestmark = pytest.mark.django_db

LIST = "admin:customers_walletentry_changelist"
# Session, user, permissions (2), the page's count and its rows: measured once, then held
# with many more buyers and entries.
LIST_BUDGET = 6


def rows(page) -> list[str]:
    """The list's rows (unfold draws each in a tbody of its own)."""
    assert page.status_code == 200
    return [row.split("</tr>")[0] for row in page.content.decode().split('<tr class="data-row')[1:]]


def html(row: str, label: str) -> str:
    """A cell's markup."""
    start = row.index(f'data-label="{label}">') + len(f'data-label="{label}">')
    return row[start : row.index("</td>", start)]


def cell(row: str, label: str) -> str:
    """A cell's text, as a reader sees it."""
    return " ".join(re.sub(r"<[^>]+>", " ", html(row, label)).split())


def history(buyer):
    """A withdrawal to the wallet, a debit, an after-sale refund and a released hold."""
    wallet.credit(buyer.pk, 5000, source_key="withdrawal:123", note="佣金提现到商城余额 W123")
    wallet.debit(buyer.pk, 1234, source_key="order-pay:77", note="订单 N77 余额支付")
    wallet.credit(buyer.pk, 200, source_key="order-refund:9", note="订单 N77 售后 A9 退回余额")
    wallet.credit(buyer.pk, 300, source_key="order-release:78", note="订单 N78 取消，余额退回")


def test_every_entry_signed_with_the_balance_after_it_and_its_record_linked():
    buyer = make_buyer("13812345678", nickname="小李")
    history(buyer)
    other = make_buyer("13700001111")
    wallet.credit(other.pk, 999, source_key="manual:1", note="补偿")

    page = operations().get(reverse(LIST))
    assert page.status_code == 200
    found = rows(page)
    assert len(found) == 5
    newest, release, refund, pay, withdrawal = found
    assert cell(newest, "类型") == "其他" and "+¥9.99" in cell(newest, "金额")
    assert cell(newest, "变动后余额") == "¥9.99" and cell(newest, "关联单据") == "-"
    # 运营 sees phones in full; a buyer without a nickname is named by the phone.
    assert ">13700001111</a>" in html(newest, "买家") and "137****1111" not in newest
    assert cell(release, "类型") == "取消退回" and "+¥3.00" in cell(release, "金额")
    assert cell(release, "变动后余额") == "¥42.66"  # 50.00 − 12.34 + 2.00 + 3.00, this buyer only
    assert 'href="/backend/orders/order/78/change/"' in html(release, "关联单据")
    assert cell(refund, "类型") == "售后退款" and cell(refund, "变动后余额") == "¥39.66"
    assert 'href="/backend/orders/aftersale/9/change/">售后单<' in html(refund, "关联单据")
    assert cell(pay, "类型") == "余额支付" and "-¥12.34" in cell(pay, "金额")
    assert "text-red-700" in html(pay, "金额") and cell(pay, "变动后余额") == "¥37.66"
    assert cell(pay, "说明") == "订单 N77 余额支付"
    assert cell(withdrawal, "类型") == "佣金提现" and cell(withdrawal, "变动后余额") == "¥50.00"
    assert 'href="/backend/distribution/withdrawal/123/change/">提现单<' in html(withdrawal, "关联单据")
    buyer_cell = html(pay, "买家")
    assert f'href="/backend/customers/customer/{buyer.pk}/change/"' in buyer_cell
    assert ">小李</a>" in buyer_cell and "data-phone>13812345678<" in buyer_cell

    # 财务 reads the list too, with phones masked as on every customer page.
    masked = rows(finance().get(reverse(LIST)))
    assert ">小李</a>" in html(masked[1], "买家") and "data-phone>138****5678<" in html(masked[1], "买家")
    assert "13812345678" not in "".join(masked) and "13700001111" not in "".join(masked)


def test_read_only_for_the_roles_and_closed_to_staff_without_the_permission():
    buyer = make_buyer()
    entry = wallet.credit(buyer.pk, 100, source_key="order-release:1", note="退回")
    client = finance()
    assert client.get(reverse("admin:customers_walletentry_add")).status_code == 403
    assert client.get(reverse("admin:customers_walletentry_delete", args=[entry.pk])).status_code == 403
    detail = client.get(reverse("admin:customers_walletentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "+¥1.00" in text and buyer.phone not in text and 'name="_save"' not in text
    reply = client.post(reverse("admin:customers_walletentry_change", args=[entry.pk]), {"note": "改"})
    assert reply.status_code == 403 and WalletEntry.objects.get(pk=entry.pk).note == "退回"
    page = client.get(reverse(LIST)).content.decode()
    assert "delete_selected" not in page and "/walletentry/add/" not in page
    stranger = login(make_staff("crm", perms=["customers.view_customer"]))
    assert stranger.get(reverse(LIST)).status_code == 403
    assert stranger.get(reverse("admin:customers_walletentry_export", args=["csv"])).status_code == 403


def test_filters_by_kind_date_and_buyer():
    buyer = make_buyer(nickname="甲")
    history(buyer)
    other = make_buyer(nickname="乙")
    wallet.credit(other.pk, 700, source_key="manual:2", note="补偿")
    old = WalletEntry.objects.get(source_key="withdrawal:123")
    WalletEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client = operations()

    paid = rows(client.get(reverse(LIST), {"kind": "order-pay"}))
    assert len(paid) == 1 and cell(paid[0], "类型") == "余额支付"
    others = rows(client.get(reverse(LIST), {"kind": "other"}))
    assert len(others) == 1 and "乙" in cell(others[0], "买家")
    today = timezone.localdate().isoformat()
    recent = rows(client.get(reverse(LIST), {"created_at_from": today, "created_at_to": today}))
    assert len(recent) == 4 and all("佣金提现" not in row for row in recent)
    # The balance after an entry is the buyer's, whatever the list is filtered to.
    assert cell(recent[-1], "变动后余额") == "¥37.66"
    mine = rows(client.get(reverse(LIST), {"user__id__exact": buyer.pk}))
    assert len(mine) == 4 and all("甲" in cell(row, "买家") for row in mine)
    for bad in (
        {"kind": "<script>"},
        {"created_at_from": "2026-13-45"},
        {"o": "x"},
        {"user__id__exact": "a"},
    ):
        assert client.get(reverse(LIST), bad).status_code in (200, 302), bad


def _pay_with_wallet(buyer, price: int) -> Order:
    make_address(buyer)
    product = make_product(price=price, stock=10)
    order = checkout.place_order(
        buyer, [(sku(product).pk, 1)], address_id=buyer.addresses.first().pk, use_wallet=True
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_SHIPMENT and order.wallet_amount == order.total
    return order


def test_search_by_buyer_phone_or_order_after_sale_or_withdrawal_number():
    buyer = make_buyer("13612340000", nickname="丙")
    wallet.credit(buyer.pk, 100000, source_key="manual:3", note="充值")
    order = _pay_with_wallet(buyer, 8800)
    full_refund(order)
    after_sale = AfterSale.objects.get(order=order)
    other = make_buyer("13500009999")
    wallet.credit(other.pk, 500, source_key="manual:4", note="补偿")
    client = finance()

    by_order = rows(client.get(reverse(LIST), {"q": order.number}))
    assert [cell(row, "类型") for row in by_order] == ["售后退款", "余额支付"]
    assert f"/backend/orders/order/{order.pk}/change/" in html(by_order[1], "关联单据")
    # ¥1000.00 credited, ¥88.00 paid with it, ¥88.00 refunded to it.
    assert cell(by_order[1], "变动后余额") == "¥912.00" and cell(by_order[0], "变动后余额") == "¥1000.00"
    by_after_sale = rows(client.get(reverse(LIST), {"q": after_sale.number}))
    assert len(by_after_sale) == 1 and "+" in cell(by_after_sale[0], "金额")
    # A withdrawal paid into a distributor's wallet is found by its number.
    withdrawal = Withdrawal.objects.create(
        number="W20260101000001",
        distributor=make_distributor(),
        amount=300,
        fee=0,
        payout=300,
        method="store_credit",
    )
    wallet.credit(other.pk, 300, source_key=f"withdrawal:{withdrawal.pk}", note="佣金提现到商城余额")
    by_withdrawal = rows(client.get(reverse(LIST), {"q": "W20260101000001"}))
    assert [cell(row, "类型") for row in by_withdrawal] == ["佣金提现"]
    assert f"/backend/distribution/withdrawal/{withdrawal.pk}/change/" in html(by_withdrawal[0], "关联单据")
    by_phone = rows(client.get(reverse(LIST), {"q": "13500009999"}))
    assert len(by_phone) == 2 and all("135****9999" in cell(row, "买家") for row in by_phone)
    assert rows(client.get(reverse(LIST), {"q": "N-NOT-THERE"})) == []
    assert client.get(reverse(LIST), {"q": "x" * 200}).status_code == 200


def test_export_holds_what_the_list_shows_masked_like_the_page():
    buyer = make_buyer("13912345678", nickname="=cmd")
    history(buyer)
    other = make_buyer("13700002222")
    wallet.credit(other.pk, 100, source_key="manual:5", note="补偿")
    url = reverse("admin:customers_walletentry_export", args=["csv"])

    full = operations().get(url, {"kind": "order-pay"}).content.decode("utf-8-sig")
    lines = full.strip().splitlines()
    assert lines[0].startswith("时间,买家ID,买家昵称,手机号,类型,金额（元）,变动后余额（元）")
    assert len(lines) == 2 and "13912345678" in lines[1] and "'=cmd" in lines[1]
    assert ",余额支付,-12.34,37.66,订单 N77 余额支付,订单,77" in lines[1]
    masked = finance().get(url).content.decode("utf-8-sig")
    assert "13912345678" not in masked and "139****5678" in masked and "137****2222" in masked
    assert masked.count("\n") == 1 + 5 and ",佣金提现,50.00,50.00," in masked
    xlsx = finance().get(reverse("admin:customers_walletentry_export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    page = finance().get(reverse(LIST), {"kind": "order-pay"}).content.decode()
    assert 'id="list-export"' in page and "export/csv/?kind=order-pay" in page


def test_the_profile_links_every_entry_of_the_buyer():
    buyer = make_buyer(nickname="丁")
    history(buyer)
    wallet.credit(make_buyer().pk, 100, source_key="manual:6", note="别人")
    profile = operations().get(reverse("admin:customers_customer_change", args=[buyer.pk])).content.decode()
    section = profile[profile.index('id="customer-wallet"') :]
    link = f"/backend/customers/walletentry/?user__id__exact={buyer.pk}"
    assert f'href="{link}" id="customer-wallet-all">查看全部流水<' in section
    listed = rows(operations().get(link))
    assert len(listed) == 4 and all("丁" in cell(row, "买家") for row in listed)


def test_query_count_does_not_grow_with_rows(django_assert_max_num_queries):
    client = finance()
    first = make_buyer()
    history(first)
    with django_assert_max_num_queries(LIST_BUDGET):
        assert len(rows(client.get(reverse(LIST)))) == 4
    for n in range(12):
        buyer = make_buyer(nickname=f"买家{n}")
        wallet.credit(buyer.pk, 1000 + n, source_key=f"order-refund:{100 + n}", note="退回")
        wallet.debit(buyer.pk, 500, source_key=f"order-pay:{200 + n}", note="支付")
        WalletEntry.objects.create(user=buyer, amount=100, source_key=f"withdrawal:{300 + n}", note="提现")
    with django_assert_max_num_queries(LIST_BUDGET):
        page = client.get(reverse(LIST))
    assert len(rows(page)) == 40
    with django_assert_max_num_queries(LIST_BUDGET):
        assert len(rows(client.get(reverse(LIST), {"kind": "order-pay", "o": "4"}))) == 13
    # The export reads a chunk of rows with its buyers and balances in one query.
    with django_assert_max_num_queries(LIST_BUDGET + 2):
        export = client.get(reverse("admin:customers_walletentry_export", args=["csv"]))
    assert export.content.decode("utf-8-sig").count("\n") == 1 + 40


def test_sidebar_entry_for_staff_who_may_read_wallets():
    page = finance().get(reverse("admin:index")).content.decode()
    assert "商城余额流水" in page and reverse(LIST) in page


def test_the_list_in_english():
    buyer = make_buyer("13912345678", nickname="Alice")
    history(buyer)
    notes = list(WalletEntry.objects.values_list("note", flat=True))
    boss = login(make_staff("boss", superuser=True))
    body = english_backend_page(boss, reverse(LIST), *notes, "导出所选（CSV）", "导出所选（Excel）")
    assert "Balance after" in body and "Paid from balance" in body and "+¥50.00" in body


def test_export_leaves_a_missing_phone_empty():
    """A WeChat account without a phone: an empty 手机号 cell, not '- (the page's "-")."""
    from fenxiao.customers.models import User

    buyer = User.objects.create(username="wx_o6abc", nickname="微信用户", phone=None)
    wallet.credit(buyer.pk, 100, source_key="manual:6", note="补偿")
    export = operations().get(reverse("admin:customers_walletentry_export", args=["csv"]))
    (line,) = export.content.decode("utf-8-sig").strip().splitlines()[1:]
    assert f",{buyer.pk},微信用户,," in line and "'-" not in line


def test_the_system_notes_read_in_english_and_a_typed_note_as_typed(django_assert_max_num_queries):
    """The entries keep their Chinese notes (the export reads them); the list, in English,
    shows the system's notes in English with their numbers, and a typed note as typed."""
    buyer = make_buyer("13912345678", nickname="Alice")
    history(buyer)
    wallet.credit(buyer.pk, 999, source_key="manual:7", note="补偿运费")
    boss = in_english(login(make_staff("boss", superuser=True)))
    with django_assert_max_num_queries(LIST_BUDGET):
        found = rows(boss.get(reverse(LIST)))
    notes = [cell(row, "Note") for row in found]
    assert notes == [
        "补偿运费",
        "Order N78 cancelled; balance returned",
        "Order N77 after-sale A9 refunded to balance",
        "Order N77 paid from balance",
        "Commission withdrawn to store balance W123",
    ]
    assert WalletEntry.objects.filter(note="订单 N77 余额支付").exists()
    profile = boss.get(reverse("admin:customers_customer_change", args=[buyer.pk])).content.decode()
    assert "Order N77 paid from balance" in profile and "余额支付" not in profile
