"""满足条件 (become a distributor by meeting a condition): 购买指定商品, set up in the backend
and met by a buyer whose order with a listed product is received."""

import pytest
from django.test import Client
from django.urls import reverse

from fenxiao.distribution.models import (
    Distributor,
    DistributorStatus,
    JoinSource,
    SettingsChange,
)
from fenxiao.distribution.services import config
from fenxiao.testing import api_for, make_buyer, make_product, make_staff

from .helpers import buy, receive, settings_data, sku, staff_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def settings_url():
    return reverse("admin:distribution_distributionsettings_change", args=[config.current().pk])


def test_the_listed_products_are_saved_from_the_backend_and_logged(boss):
    tea, cup = make_product("明前龙井", price=20000), make_product("茶杯", price=3000)
    reply = boss.post(
        settings_url(),
        settings_data(enable_mode="condition", condition_kind="bought_products", condition_products=[tea.pk]),
    )
    assert reply.status_code == 302, reply.context["adminform"].form.errors
    cfg = config.current()
    assert list(cfg.condition_products.all()) == [tea]
    assert (cfg.enable_mode, cfg.condition_kind) == ("condition", "bought_products")
    change = SettingsChange.objects.get()
    assert change.changes["condition_products"] == [[], [tea.pk]]
    assert "指定商品：无 → 明前龙井" in boss.get(settings_url()).content.decode()

    # Changing only the list saves a new version with just that change.
    reply = boss.post(settings_url(), settings_data(condition_products=[tea.pk, cup.pk]))
    assert reply.status_code == 302
    assert set(config.current().condition_products.all()) == {tea, cup}
    assert SettingsChange.objects.latest("pk").changes == {"condition_products": [[tea.pk], [tea.pk, cup.pk]]}


def test_bought_products_without_any_product_is_refused_in_chinese(boss):
    reply = boss.post(
        settings_url(),
        settings_data(enable_mode="condition", condition_kind="bought_products", condition_products=[]),
    )
    assert reply.status_code == 200
    errors = reply.context["adminform"].form.errors
    assert errors["condition_products"] == ["成为分销商条件为“购买指定商品”时，请至少选择一个指定商品"]
    assert config.current().enable_mode == "apply"
    assert not SettingsChange.objects.exists()


def test_a_buyer_of_a_listed_product_becomes_a_distributor_once_the_order_is_received(boss):
    tea, cup = make_product("明前龙井", price=20000), make_product("茶杯", price=3000)
    reply = boss.post(
        settings_url(),
        settings_data(enable_mode="condition", condition_kind="bought_products", condition_products=[tea.pk]),
    )
    assert reply.status_code == 302
    tea_buyer, cup_buyer = make_buyer(), make_buyer()

    tea_order = buy(tea_buyer, (sku(tea), 1), (sku(cup), 1))
    cup_order = buy(cup_buyer, (sku(cup), 2))
    # Paid is not enough: the condition counts once the buyer has received the goods.
    assert not Distributor.objects.exists()
    assert api_for(tea_buyer).get("/distribution/profile").json()["is_distributor"] is False

    receive(tea_order)
    receive(cup_order)

    distributor = Distributor.objects.get(user=tea_buyer)
    assert (distributor.status, distributor.source) == (DistributorStatus.ACTIVE, JoinSource.CONDITION)
    profile = api_for(tea_buyer).get("/distribution/profile").json()
    assert (profile["is_distributor"], profile["id"]) == (True, distributor.pk)
    # The other buyer bought only an unlisted product: still a buyer, and cannot apply.
    assert not Distributor.objects.filter(user=cup_buyer).exists()
    reply = api_for(cup_buyer).post("/distribution/apply", {})
    assert reply.status_code == 409
    assert reply.json()["message"] == "您暂未满足成为分销商的条件"


def test_a_listed_product_refunded_in_full_does_not_qualify():
    tea, cup = make_product("明前龙井", price=20000), make_product("茶杯", price=3000)
    config.update_settings(
        None, enable_mode="condition", condition_kind="bought_products", condition_products=[tea]
    )
    buyer = make_buyer()
    order = buy(buyer, (sku(tea), 1), (sku(cup), 1))
    # The merchant refunds the tea before shipping; the buyer keeps and receives the cup.
    staff_refund(order, {"line_id": order.lines.get(product=tea).pk})
    receive(order)
    assert order.status == order.Status.COMPLETED
    assert not Distributor.objects.filter(user=buyer).exists()
