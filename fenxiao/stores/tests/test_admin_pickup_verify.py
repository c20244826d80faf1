"""到店自提 in the merchant backend: staff with 核销自提订单 verify a pickup code on the
backend's own 核销提货码 page (the order, its lines and store, the buyer's phone masked unless
they may see phones; one confirmation completes the order), reached from the sidebar and
from the pickup order's page; and a pickup order's page offers no 发货 / 修改地址 / 打印发货单,
whose addresses answer with the reason instead of a form."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.orders.models import AfterSaleKind, OrderEvent, Parcel
from fenxiao.orders.services import after_sales, checkout
from fenxiao.stores.testing import make_store, make_store_staff
from fenxiao.testing import login, make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db

PAGE = "/backend/stores/pickup-verify/"


def paid_pickup(store_name="湖滨店", product="西湖龙井", qty=2, buyer=None):
    sku = make_product(product, price=8800, stock=10).skus.get()
    store = make_store(store_name, stock={sku.pk: 5})
    buyer = buyer or make_buyer(phone="13912345678", nickname="小林")
    order = checkout.place_order(buyer, [(sku.pk, qty)], fulfilment="pickup", pickup_store_id=store.pk)
    pay_in_sandbox(order)
    order.refresh_from_db()
    assert order.status == "pending_shipment" and order.pickup_code
    return order


def messages_of(reply) -> list[str]:
    return [str(m) for m in get_messages(reply.wsgi_request)]


def role(name: str):
    ensure_staff_groups()
    user = make_staff(name)
    user.groups.add(Group.objects.get(name=name))
    return login(user)


def test_staff_with_the_permission_verify_a_code_in_the_backend():
    order = paid_pickup()
    clerk = login(make_staff("counter", perms=["stores.verify_pickup", "orders.view_order"]))
    page = clerk.get(PAGE, {"code": order.pickup_code})
    text = page.content.decode()
    assert page.status_code == 200
    assert order.number in text and "西湖龙井" in text and "湖滨店" in text and "×2" in text
    # No customers.view_customer_phone: the buyer's phone is masked.
    assert "139****5678" in text and "13912345678" not in text
    assert reverse("admin:orders_order_change", args=[order.pk]) in text
    assert "确认核销，交付商品" in text

    done = clerk.post(PAGE, {"code": order.pickup_code, "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == f"{PAGE}?done={order.number}"
    assert messages_of(done) == []
    order.refresh_from_db()
    assert order.status == "completed" and order.picked_up_at is not None
    assert OrderEvent.objects.filter(order=order, kind="completed").count() == 1
    after = clerk.get(done["Location"]).content.decode()
    assert f"订单 {order.number} 已于" in after and "核销，买家已提货" in after
    assert reverse("admin:orders_order_change", args=[order.pk]) in after

    # The same code again, a wrong one and a malformed one: refused by the shared service.
    again = clerk.get(PAGE, {"code": order.pickup_code}).content.decode()
    assert "已于" in again and "不能重复使用" in again and "确认核销，交付商品" not in again
    assert "提货码无效" in clerk.get(PAGE, {"code": "00000000"}).content.decode()
    assert "提货码为8位数字" in clerk.get(PAGE, {"code": "12ab"}).content.decode()
    twice = clerk.post(PAGE, {"code": order.pickup_code, "confirm": "1"})
    assert twice.status_code == 302 and "不能重复使用" in " ".join(messages_of(twice))
    assert OrderEvent.objects.filter(order=order, kind="completed").count() == 1


def test_phones_show_whole_to_staff_who_may_see_them():
    order = paid_pickup()
    boss = login(make_staff("boss", superuser=True))
    text = boss.get(PAGE, {"code": order.pickup_code}).content.decode()
    assert "13912345678" in text


def test_an_order_with_an_open_after_sale_is_not_offered_for_verification():
    order = paid_pickup()
    after_sales.request_after_sale(
        order,
        order.buyer,
        kind=AfterSaleKind.REFUND_ONLY,
        reason_code="not_wanted",
        lines=[{"line_id": order.lines.get().pk, "quantity": 1}],
    )
    clerk = login(make_staff("counter", perms=["stores.verify_pickup"]))
    text = clerk.get(PAGE, {"code": order.pickup_code}).content.decode()
    assert "订单有处理中的售后申请，请先处理售后" in text and "确认核销，交付商品" not in text
    refused = clerk.post(PAGE, {"code": order.pickup_code, "confirm": "1"})
    assert "订单有处理中的售后申请，请先处理售后" in messages_of(refused)
    order.refresh_from_db()
    assert order.status == "pending_shipment"


def test_the_page_is_only_for_staff_with_the_permission():
    order = paid_pickup()
    shipper = login(make_staff("shipper", perms=["orders.view_order", "orders.change_order"]))
    assert shipper.get(PAGE, {"code": order.pickup_code}).status_code == 403
    assert shipper.post(PAGE, {"code": order.pickup_code, "confirm": "1"}).status_code == 403
    # A store clerk (not backend staff) verifies on the H5 page, not here.
    clerk = login(make_store_staff(make_store("东站店")))
    reply = clerk.post(PAGE, {"code": order.pickup_code, "confirm": "1"})
    assert reply.status_code == 302 and "/login/" in reply["Location"]
    order.refresh_from_db()
    assert order.status == "pending_shipment"


def test_the_sidebar_lists_the_page_for_those_who_may_verify():
    def has_entry(client) -> bool:
        body = client.get(reverse("admin:index")).content.decode()
        return f'href="{PAGE}"' in body and "核销提货码" in body

    assert has_entry(role(OPERATIONS))
    assert has_entry(login(make_staff("counter", perms=["stores.verify_pickup"])))
    assert not has_entry(role(FINANCE))


def test_a_pickup_orders_page_offers_verification_instead_of_shipping():
    order = paid_pickup()
    boss = login(make_staff("boss", superuser=True))
    base = reverse("admin:orders_order_changelist") + f"{order.pk}/"
    text = boss.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    for path in ("ship/", "address/", "packing/"):
        assert f'href="{base}{path}"' not in text, path
    assert f'href="{base}verify-pickup/"' in text and "核销提货码" in text
    to_page = boss.get(f"{base}verify-pickup/")
    assert to_page.status_code == 302 and to_page["Location"] == f"{PAGE}?code={order.pickup_code}"

    # Typed in by hand, each answers with the reason and goes back to the order, no form.
    change = reverse("admin:orders_order_change", args=[order.pk])
    refusals = {
        "ship/": "到店自提订单无需发货，请在门店核销提货码",
        "address/": "到店自提订单没有收货地址，买家到门店提货",
        "packing/": "到店自提订单无需打印发货单，买家凭提货码到门店提货",
    }
    for path, message in refusals.items():
        for reply in (boss.get(f"{base}{path}"), boss.post(f"{base}{path}", {"carrier": "shunfeng"})):
            assert reply.status_code == 302 and reply["Location"] == change, path
            assert messages_of(reply)[-1] == message, path
    order.refresh_from_db()
    assert order.status == "pending_shipment" and not Parcel.objects.filter(order=order).exists()


def test_the_packing_list_skips_pickup_orders():
    pickup = paid_pickup()
    delivered = paid_delivery()
    boss = login(make_staff("boss", superuser=True))
    packing = reverse("admin:orders_order_packing_list")
    skipped = "已跳过 1 个到店自提订单：买家凭提货码到门店提货，无需发货单"
    # Asked by id: the page of the others, or back to the list when none is left.
    mixed = boss.get(packing, {"ids": f"{pickup.pk},{delivered.pk}"})
    assert mixed.status_code == 302 and mixed["Location"] == f"{packing}?ids={delivered.pk}"
    assert messages_of(mixed)[-1] == skipped
    alone = boss.get(packing, {"ids": str(pickup.pk)})
    assert alone.status_code == 302 and alone["Location"] == reverse("admin:orders_order_changelist")
    # The list's bulk action: the selection less its pickup orders.
    changelist = reverse("admin:orders_order_changelist")
    picked = {"action": "print_packing_list", "_selected_action": [pickup.pk, delivered.pk]}
    bulk = boss.post(changelist, picked)
    assert bulk.status_code == 302 and bulk["Location"] == f"{packing}?ids={delivered.pk}"
    assert messages_of(bulk)[-1] == skipped
    page = boss.get(bulk["Location"]).content.decode()
    assert delivered.number in page and pickup.number not in page


def paid_delivery():
    buyer = make_buyer()
    sku = make_product("台灯", stock=5).skus.get()
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)
    pay_in_sandbox(order)
    order.refresh_from_db()
    return order


def test_a_delivery_orders_page_keeps_shipping_and_has_no_verification():
    order = paid_delivery()
    boss = login(make_staff("boss", superuser=True))
    base = reverse("admin:orders_order_changelist") + f"{order.pk}/"
    text = boss.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert f'href="{base}ship/"' in text and f'href="{base}packing/"' in text
    assert "verify-pickup/" not in text
    assert boss.get(f"{base}ship/").status_code == 200
    refused = boss.get(f"{base}verify-pickup/")
    assert refused.status_code == 302 and messages_of(refused) == ["该订单不是到店自提订单"]
    mixed = boss.get(reverse("admin:orders_order_packing_list"), {"ids": str(order.pk)})
    assert mixed.status_code == 200 and order.number in mixed.content.decode()
