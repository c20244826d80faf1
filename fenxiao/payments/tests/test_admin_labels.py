"""The payment pages speak the merchant's language: the gateway by its name (沙箱支付, not
"sandbox"), the sandbox's own trade page with Chinese field labels, and the POS books with
Chinese names in the role editor's permission list."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from fenxiao.orders.services import checkout
from fenxiao.payments.models import Payment, PaymentNotification, SandboxTrade
from fenxiao.testing import login, make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db


def test_the_gateway_is_shown_by_its_name_and_the_sandbox_trade_in_chinese():
    buyer = make_buyer()
    address = make_address(buyer)
    sku = make_product("帆布包", price=3900).skus.get()
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk)
    pay_in_sandbox(order, notify=True)
    boss = login(make_staff("boss", superuser=True))
    payment = Payment.objects.get(order=order)
    pages = [
        reverse("admin:payments_payment_changelist"),
        reverse("admin:payments_payment_change", args=[payment.pk]),
        reverse("admin:orders_order_change", args=[order.pk]),
    ]
    if PaymentNotification.objects.exists():
        pages.append(reverse("admin:payments_paymentnotification_changelist"))
    for url in pages:
        html = boss.get(url).content.decode()
        assert "沙箱支付" in html and ">sandbox<" not in html, url
    trade = SandboxTrade.objects.get(out_trade_no=payment.out_trade_no)
    html = boss.get(reverse("admin:payments_sandboxtrade_change", args=[trade.pk])).content.decode()
    assert "商户订单号" in html and "Out trade no" not in html and "Paid at" not in html


def test_pos_books_have_chinese_names_in_the_permission_list():
    names = set(
        Permission.objects.filter(content_type__app_label="stores", codename__contains="pos").values_list(
            "name", flat=True
        )
    )
    assert not any("pos idempotency" in name or "pos nonce" in name for name in names), names
