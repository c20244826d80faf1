"""The order page explains who earns on the order: the chain snapshotted at checkout, each
commission with its level, amount, state and rule, and why nothing was earned when so."""

import pytest
from django.test import Client
from django.urls import reverse

from fenxiao.distribution.models import Commission, CommissionRule
from fenxiao.distribution.services import config
from fenxiao.distribution.tests.helpers import (
    bound_buyer,
    buy,
    configure,
    make_distributor,
    pay,
    place,
    sku,
    suspend,
)
from fenxiao.testing import make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def order_page(client, order) -> str:
    reply = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert reply.status_code == 200
    return reply.content.decode()


def test_a_paid_order_shows_its_chain_and_commissions(boss):
    configure(levels=2, level1_bp=1000, level2_bp=500)
    parent = make_distributor()
    child = make_distributor(parent=parent)
    buyer = bound_buyer(child)
    product = make_product("T恤", price=10000)
    order = buy(buyer, (sku(product), 1))
    body = order_page(boss, order)
    assert "客户绑定关系" in body
    assert child.referral_code in body and parent.referral_code in body
    commissions = list(Commission.objects.filter(order=order).order_by("level"))
    assert [c.level for c in commissions] == [1, 2]
    for commission in commissions:
        assert reverse("admin:distribution_commission_change", args=[commission.pk]) in body
    assert "¥10.00" in body and "¥5.00" in body  # 10 % and 5 % of ¥100.00
    assert commissions[0].get_status_display() in body
    assert "默认比例" in body
    assert "共 2 笔佣金，实得合计 ¥15.00" in body


def test_an_order_without_binding_says_why_it_earned_nothing(boss):
    make_distributor()
    buyer = make_buyer()
    order = buy(buyer, (sku(make_product("杯子", price=5000)), 1))
    body = order_page(boss, order)
    assert "未归属任何分销商，不计佣金" in body
    assert "没有有效的客户绑定关系" in body


def test_a_distributor_suspended_before_payment_earns_nothing_and_the_page_says_so(boss):
    configure(levels=1)
    distributor = make_distributor()
    buyer = bound_buyer(distributor)
    order = place(buyer, (sku(make_product("帽子", price=8000)), 1))
    suspend(distributor)
    pay(order)
    body = order_page(boss, order)
    assert "已归属分销商，但没有产生佣金" in body
    assert "状态为暂停，不计佣金" in body


def test_a_zero_rule_is_named_as_the_reason(boss):
    configure(levels=1)
    distributor = make_distributor()
    buyer = bound_buyer(distributor)
    product = make_product("特价品", price=3000)
    config.save_rule(CommissionRule(name="特价不计佣", product=product, kind="rate", level1=0))
    order = buy(buyer, (sku(product), 1))
    body = order_page(boss, order)
    assert "适用商品规则“特价不计佣” 0.00 %，佣金为 0，不计佣金" in body


def test_an_unpaid_order_says_commission_comes_at_payment(boss):
    distributor = make_distributor()
    order = place(bound_buyer(distributor), (sku(make_product("袜子", price=1000)), 1))
    assert "订单尚未付款" in order_page(boss, order)


def test_an_excluded_product_is_named_as_the_reason(boss):
    configure(levels=1)
    distributor = make_distributor()
    buyer = bound_buyer(distributor)
    product = make_product("福利品", price=3000)
    config.save_rule(CommissionRule(name="福利品不参与分销", product=product, kind="exclude"))
    order = buy(buyer, (sku(product), 1))
    body = order_page(boss, order)
    assert "已归属分销商，但没有产生佣金" in body
    assert "适用商品规则“福利品不参与分销”（不计佣金），不产生任何佣金" in body
