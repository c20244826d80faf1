"""The 客户 list (buyers only, masked phones for 财务, filters, export) and the customer
profile, each in a constant number of queries whatever the number of orders."""

import re

from django.urls import reverse

from fenxiao.analytics.models import ProductView
from fenxiao.customers.services import figures as figures_service
from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor
from fenxiao.testing import login, make_buyer, make_staff

from .crm import finance, full_refund, operations, paid

LIST = "admin:customers_customer_changelist"
LIST_BUDGET = 10  # with the 客户分群 filter's segment names
PROFILE_BUDGET = 15  # 13, and the 商城余额 panel: its balance and its latest entries


def test_list_shows_buyers_only_and_masks_phones_for_finance(db):
    buyer = make_buyer("13812345678", nickname="小王")
    paid(buyer, price=12345)
    make_staff("clerk")
    ops_page = operations().get(reverse(LIST)).content.decode()
    fin_page = finance().get(reverse(LIST)).content.decode()
    assert "13812345678" in ops_page and "¥123.45" in ops_page and "小王" in ops_page
    assert "13812345678" not in fin_page and "138****5678" in fin_page
    assert "clerk" not in ops_page  # staff are on the 员工 page
    found = finance().get(reverse(LIST), {"q": "13812345678"}).content.decode()
    assert "小王" in found and "138****5678" in found
    # The row shows the masked number; the full one only echoes what the searcher typed.
    assert 'data-label="手机号">138****5678<' in found and 'data-label="手机号">13812345678<' not in found
    assert operations().get(reverse("admin:customers_customer_change", args=[buyer.pk])).status_code == 200
    profile = finance().get(reverse("admin:customers_customer_change", args=[buyer.pk])).content.decode()
    assert "138****5678" in profile and "13812345678" not in profile
    unnamed = make_buyer("13612345678")
    profile = finance().get(reverse("admin:customers_customer_change", args=[unnamed.pk])).content.decode()
    assert "136****5678" in profile and "13612345678" not in profile  # title and breadcrumb too


def test_export_masks_like_the_page(db):
    make_buyer("13912345678", nickname="=cmd")
    url = reverse("admin:customers_customer_export", args=["csv"])
    ops = operations().get(url).content.decode("utf-8-sig")
    fin = finance().get(url).content.decode("utf-8-sig")
    assert "13912345678" in ops and "'=cmd" in ops
    assert "13912345678" not in fin and "139****5678" in fin
    xlsx = finance().get(reverse("admin:customers_customer_export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    assert finance().get(reverse("admin:customers_customer_export", args=["pdf"])).status_code == 404
    # The list's export buttons carry its search; the file holds what the list shows.
    page = finance().get(reverse(LIST), {"q": "cmd"}).content.decode()
    assert 'id="list-export"' in page and "export/csv/?q=cmd" in page
    other = make_buyer("13700000000", nickname="别人")
    searched = operations().get(url, {"q": "cmd"}).content.decode("utf-8-sig")
    assert "13912345678" in searched and other.phone not in searched
    assert make_staff("nobody") and login(make_staff("nobody")).get(url).status_code == 403


def test_filters_and_bad_parameters(db):
    distributor = make_distributor()
    bound = bound_buyer(distributor, source="poster")
    paid(bound, price=60000)
    loner = make_buyer(nickname="独行")
    figures_service.add_new_buyers()
    client = operations()
    page = client.get(reverse(LIST), {"bound": "yes", "spend": "3", "orders": "1", "source": "poster"})
    text = page.content.decode()
    assert page.status_code == 200 and bound.phone in text and loner.phone not in text
    page = client.get(reverse(LIST), {"bound": "no", "last_paid": "never"}).content.decode()
    assert loner.phone in page and bound.phone not in page
    for bad in ({"tag": "abc"}, {"spend": "9"}, {"o": "x"}, {"source": "<script>"}):
        assert client.get(reverse(LIST), bad).status_code in (200, 302)
    assert client.get(reverse("admin:customers_customer_change", args=["abc"])).status_code == 404
    assert client.get(reverse("admin:customers_customer_change", args=[999999])).status_code == 404


def _history(buyer, orders: int):
    for _ in range(orders):
        _, order = paid(buyer, price=1000)
    return order


def test_list_and_profile_query_budgets_do_not_grow_with_orders(db, django_assert_max_num_queries):
    from fenxiao.testing import make_product

    distributor = make_distributor()
    client = operations()
    few = bound_buyer(distributor)
    order = _history(few, 1)
    full_refund(order)
    ProductView.objects.create(
        buyer=few,
        product=make_product(),
        day=order.paid_at.date(),
        first_viewed_at=order.paid_at,
        last_viewed_at=order.paid_at,
    )
    # Budgets measured once, then held with many more customers, orders and views.
    with django_assert_max_num_queries(LIST_BUDGET):
        assert client.get(reverse(LIST)).status_code == 200
    profile = reverse("admin:customers_customer_change", args=[few.pk])
    with django_assert_max_num_queries(PROFILE_BUDGET):
        assert client.get(profile).status_code == 200
    many = bound_buyer(distributor)
    _history(many, 6)
    for _ in range(8):
        _history(bound_buyer(distributor), 1)
    with django_assert_max_num_queries(LIST_BUDGET):
        page = client.get(reverse(LIST))
    assert "¥60.00" in page.content.decode()
    with django_assert_max_num_queries(PROFILE_BUDGET):
        page = client.get(reverse("admin:customers_customer_change", args=[many.pk]))
    text = page.content.decode()
    assert text.count("/backend/orders/order/") >= 6 and "¥60.00" in text
    # A distributor's own profile shows their figures (sales through their link).
    with django_assert_max_num_queries(PROFILE_BUDGET + 4):  # the distributor's figures (3) and grade
        page = client.get(
            reverse("admin:customers_customer_change", args=[distributor.user_id])
        ).content.decode()
    assert "推广销售额" in page and "分销商页面" in page


def test_sidebar_separates_customers_and_staff(db):
    page = operations().get(reverse(LIST)).content.decode()
    assert "客户分群" in page and "客户标签" in page


def test_user_pages_mask_buyer_phones_for_finance_too(db):
    buyer = make_buyer("13712345678")
    user_list = reverse("admin:customers_user_changelist")
    assert "137****5678" in finance().get(user_list).content.decode()
    assert "13712345678" not in finance().get(user_list).content.decode()
    assert "13712345678" in operations().get(user_list).content.decode()
    page = finance().get(reverse("admin:customers_user_change", args=[buyer.pk])).content.decode()
    assert "137****5678" in page and "13712345678" not in page


# --- 商城余额 on the profile -------------------------------------------------------------------


def _wallet_section(page) -> str:
    text = page.content.decode()
    start = text.index('id="customer-wallet"')
    return text[start : text.index("</section>", start)]


def test_profile_shows_the_store_credit_balance_and_latest_entries(db):
    from fenxiao.customers.services import wallet

    buyer = make_buyer(nickname="小李")
    wallet.credit(buyer.pk, 5000, source_key="withdrawal:123", note="佣金提现到商城余额 W123")
    wallet.debit(buyer.pk, 1234, source_key="order-pay:77", note="订单 N77 余额支付")
    wallet.credit(buyer.pk, 200, source_key="order-refund:9", note="订单 N77 售后 A9 退回余额")
    wallet.credit(buyer.pk, 300, source_key="order-release:78", note="订单 N78 取消，余额退回")
    url = reverse("admin:customers_customer_change", args=[buyer.pk])

    section = _wallet_section(operations().get(url))
    assert 'data-field="商城余额">¥42.66<' in section  # 50.00 − 12.34 + 2.00 + 3.00
    rows = section[section.index("<tbody") :].split("<tr")[1:]
    assert len(rows) == 4
    assert "取消退回" in rows[0] and "+¥3.00" in rows[0] and "/backend/orders/order/78/change/" in rows[0]
    assert "售后退款" in rows[1] and "+¥2.00" in rows[1] and "/backend/orders/aftersale/9/change/" in rows[1]
    assert "余额支付" in rows[2] and "-¥12.34" in rows[2] and "订单 N77 余额支付" in rows[2]
    assert "/backend/orders/order/77/change/" in rows[2]
    assert "佣金提现" in rows[3] and "+¥50.00" in rows[3]
    assert "/backend/distribution/withdrawal/123/change/" in rows[3]
    # 财务 reads it too; a role without the wallet's view permission does not.
    assert "¥42.66" in _wallet_section(finance().get(url))
    other = make_staff("crm", perms=["customers.view_customer"])
    page = login(other).get(url)
    assert page.status_code == 200 and 'id="customer-wallet"' not in page.content.decode()


def test_an_empty_wallet_says_so(db):
    buyer = make_buyer()
    section = _wallet_section(operations().get(reverse("admin:customers_customer_change", args=[buyer.pk])))
    assert 'data-field="商城余额">¥0.00<' in section and "暂无余额流水" in section
    # Nothing to count or open: no 共 0 笔流水，显示最近 0 笔 and no link to an empty list.
    assert "共 0 笔" not in section and "customer-wallet-all" not in section


def test_a_customer_without_orders_has_no_count_of_none_nor_a_link_to_an_empty_list(db):
    page = operations().get(reverse("admin:customers_customer_change", args=[make_buyer().pk]))
    text = page.content.decode()
    start = text.index('id="customer-orders"')
    section = text[start : text.index("</section>", start)]
    assert "暂无订单" in section and "最近 0 笔" not in section and "全部订单" not in section


def test_all_after_sales_opens_this_customers_after_sales_only(db):
    from fenxiao.orders.models import AfterSale

    buyer, order = paid()
    full_refund(order)
    other, elsewhere = paid()
    full_refund(elsewhere)
    client = operations()
    text = client.get(reverse("admin:customers_customer_change", args=[buyer.pk])).content.decode()
    start = text.index('id="customer-after-sales"')
    section = text[start : text.index("</section>", start)]
    link = re.search(r'href="([^"]+)" id="customer-after-sales-all"', section).group(1)

    listing = client.get(link.replace("&amp;", "&"))

    assert listing.status_code == 200  # not refused as a lookup the list does not allow
    mine = AfterSale.objects.get(order=order).number
    theirs = AfterSale.objects.get(order=elsewhere).number
    assert mine in listing.content.decode() and theirs not in listing.content.decode()
    # None yet: no link to an empty list.
    page = client.get(reverse("admin:customers_customer_change", args=[make_buyer().pk]))
    assert "customer-after-sales-all" not in page.content.decode()


def test_the_wallet_section_costs_the_same_queries_whatever_the_history(db, django_assert_max_num_queries):
    from fenxiao.customers.models import WalletEntry
    from fenxiao.customers.services import wallet

    client = operations()
    buyer = make_buyer()
    wallet.credit(buyer.pk, 100, source_key="order-refund:1", note="退回")
    url = reverse("admin:customers_customer_change", args=[buyer.pk])
    with django_assert_max_num_queries(PROFILE_BUDGET):
        assert client.get(url).status_code == 200
    WalletEntry.objects.bulk_create(
        WalletEntry(user=buyer, amount=100, source_key=f"order-refund:{n}", note="退回") for n in range(2, 41)
    )
    with django_assert_max_num_queries(PROFILE_BUDGET):
        page = client.get(url)
    section = _wallet_section(page)
    assert 'data-field="商城余额">¥40.00<' in section
    assert section[section.index("<tbody") :].count("<tr") == 20  # the latest 20, newest first
    assert "order-refund" not in section and "/backend/orders/aftersale/40/change/" in section
    assert "共 40 笔" in section


def test_export_leaves_a_missing_phone_or_distributor_empty(db):
    """No binding, or a WeChat account without a phone: an empty cell, not '- (the page's
    "-" went into the file and came out behind the formula guard)."""
    import csv
    import io

    from fenxiao.customers.models import User

    make_buyer("13912345678", nickname="小王")
    User.objects.create(username="wx_o6abc", nickname="微信用户", phone=None)
    url = reverse("admin:customers_customer_export", args=["csv"])
    rows = list(csv.reader(io.StringIO(operations().get(url).content.decode("utf-8-sig"))))
    header, body = rows[0], {row[1]: row for row in rows[1:]}
    phone, distributor = header.index("手机号"), header.index("绑定分销商")
    assert body["小王"][phone] == "13912345678" and body["小王"][distributor] == ""
    assert body["微信用户"][phone] == "" and body["微信用户"][distributor] == ""
    assert not any("'-" in cell for row in rows for cell in row)


def test_customers_are_found_by_when_they_joined(db):
    """注册时间 from/to in whole local days (who joined during the campaign), on the list and
    in its export; a malformed date is ignored with a notice."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from fenxiao.customers.models import User

    def joined(phone, day):
        buyer = make_buyer(phone)
        moment = timezone.make_aware(datetime.combine(day, time(23, 30)))
        User.objects.filter(pk=buyer.pk).update(date_joined=moment)
        return buyer

    today = timezone.localdate()
    early = joined("13900000001", today.replace(day=1) - timedelta(days=40))
    inside = joined("13900000002", today - timedelta(days=3))
    last_day = joined("13900000003", today - timedelta(days=1))
    window = {
        "date_joined_from": str(today - timedelta(days=5)),
        "date_joined_to": str(today - timedelta(days=1)),
    }
    page = operations().get(reverse(LIST), window)
    assert {c.pk for c in page.context["cl"].result_list} == {inside.pk, last_day.pk}
    export = operations().get(reverse("admin:customers_customer_export", args=["csv"]), window)
    text = export.content.decode("utf-8-sig")
    assert inside.phone in text and last_day.phone in text and early.phone not in text
    bad = operations().get(reverse(LIST), {"date_joined_from": "2026-13-45"}, follow=True)
    assert bad.status_code == 200 and "格式有误" in bad.content.decode()


def test_the_profile_s_touches_read_their_reasons_in_english(db):
    """A touch's reason is the system's Chinese sentence: the English profile shows it in
    English; what staff typed for a hand-made binding reads as typed."""
    from fenxiao.distribution.services import binding
    from fenxiao.testing import in_english

    buyer = bound_buyer(make_distributor())
    binding.reassign(buyer, make_distributor(), make_staff("ops2"), reason="客户来电要求改绑")
    assert buyer.touches.filter(reason="首次绑定").exists()
    boss = in_english(login(make_staff("boss", superuser=True)))
    page = boss.get(reverse("admin:customers_customer_change", args=[buyer.pk])).content.decode()
    assert "First binding" in page and "首次绑定" not in page
    assert "客户来电要求改绑" in page
