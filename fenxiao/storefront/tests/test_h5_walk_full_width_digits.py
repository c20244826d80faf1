"""Numbers typed on a Chinese keyboard in full-width mode (１３８ …, ＳＦ１２３ …) are the
ASCII numbers they mean on the H5 forms that take them: the 掉单申诉 order number and phone
tail, the texted code on 注册 and 忘记密码, the 寄回 waybill number, and the amounts of 提现
and 申请售后 (１２．５０: the full-width point made them unreadable). They were refused as an
unknown order, a wrong code (counted as a wrong try), a malformed waybill or 请输入正确的金额."""

import pytest
from django.test import Client

from fenxiao.customers.models import User
from fenxiao.distribution.models import OrderClaim, Withdrawal
from fenxiao.distribution.tests.helpers import bound_buyer, buy, configure, earn, make_distributor, sku
from fenxiao.orders.models import AfterSale, OrderSettings
from fenxiao.orders.services import after_sales, checkout
from fenxiao.testing import last_sms_code, make_address, make_buyer, make_product, make_staff, pay_in_sandbox

from .test_after_sale_pages import shipped_order

pytestmark = pytest.mark.django_db

PASSWORD = "Secret#2026"
WIDE = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ",
)


def wide(text: str) -> str:
    return text.translate(WIDE)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_claim_typed_in_full_width_digits_finds_the_order():
    order = buy(bound_buyer(make_distributor()), (sku(make_product("台灯", price=10000)), 1))
    claimant = make_distributor()
    reply = signed_in(claimant.user).post(
        "/d/claims/",
        {"order_number": wide(order.number), "phone_tail": wide(order.buyer.phone[-4:]), "reason": "海报"},
    )
    assert (reply.status_code, reply["Location"]) == (302, "/d/claims/")
    assert OrderClaim.objects.get().order == order


def test_registering_with_a_code_typed_in_full_width_digits():
    phone = "13800000031"
    client = Client()
    client.post("/register/", {"action": "send_code", "phone": phone})
    data = {"phone": wide(phone), "nickname": "小王", "password": PASSWORD, "password2": PASSWORD}
    done = client.post("/register/", {**data, "code": wide(last_sms_code(phone))})
    assert (done.status_code, done["Location"]) == (302, "/me/")
    assert User.objects.get(phone=phone).nickname == "小王"


def test_resetting_the_password_with_a_code_typed_in_full_width_digits():
    phone = "13800000032"
    make_buyer(phone, password="Old#2026pass")
    client = Client()
    client.post("/password-reset/", {"action": "send_code", "phone": phone})
    done = client.post(
        "/password-reset/",
        {"phone": phone, "code": wide(last_sms_code(phone)), "password": PASSWORD, "password2": PASSWORD},
    )
    assert (done.status_code, done["Location"]) == (302, "/me/")
    assert User.objects.get(phone=phone).check_password(PASSWORD)


def test_a_waybill_number_typed_in_full_width_is_the_ascii_one():
    rules = OrderSettings.current()
    rules.return_recipient, rules.return_phone, rules.return_address = (
        "售后组",
        "0571-88001234",
        "杭州市退货仓",
    )
    rules.save()
    buyer = make_buyer()
    order = shipped_order(buyer)
    sale = after_sales.request_after_sale(
        order,
        buyer,
        kind="return_refund",
        reason_code="wrong_item",
        lines=[{"line_id": order.lines.get().pk}],
    )
    after_sales.approve(sale, make_staff("boss"))
    url = f"/orders/{order.number}/after-sales/{sale.number}/ship-back/"
    signed_in(buyer).post(url, {"carrier": "yunda", "tracking_number": wide("YD4318000123456")})
    sale = AfterSale.objects.get(pk=sale.pk)
    assert (sale.status, sale.return_tracking_number) == ("return_shipped", "YD4318000123456")


def test_a_withdrawal_amount_typed_in_full_width_is_read():
    configure(withdraw_methods=["alipay"])
    distributor = make_distributor()
    earn(distributor, 100000)
    reply = signed_in(distributor.user).post(
        "/d/withdraw/", {"method": "alipay", "amount": "１２．５０", "name": "张三", "account": "13800138000"}
    )
    assert (reply.status_code, reply["Location"]) == (302, "/d/withdraw/")
    assert Withdrawal.objects.get().amount == 1250


def test_a_refund_amount_typed_in_full_width_is_read():
    buyer = make_buyer()
    sku_ = make_product("围巾", price=5900).skus.get()
    order = checkout.place_order(buyer, [(sku_.pk, 2)], address_id=make_address(buyer).pk)
    pay_in_sandbox(order)
    line = order.lines.get()
    reply = signed_in(buyer).post(
        f"/orders/{order.number}/after-sale/",
        {
            "kind": "refund_only",
            "reason_code": "other",
            f"line_{line.pk}": "1",
            f"qty_{line.pk}": "１",
            f"amount_{line.pk}": "￥３０．５０",
        },
    )
    assert reply.status_code == 302
    assert AfterSale.objects.get().amount == 3050
