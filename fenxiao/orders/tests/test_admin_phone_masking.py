"""The order and after-sale pages mask phones (138****0001) for staff who may not see them
(财务: no `customers.view_customer_phone`), as the 客户 pages and the exports do: the buyer,
the recipient, the attributed distributor, the order log and the after-sale history. 运营 may
see them and sees the whole numbers."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.distribution.models import TouchSource
from fenxiao.distribution.services import binding
from fenxiao.distribution.tests.helpers import buy, make_distributor, sku
from fenxiao.orders.models import AfterSale
from fenxiao.orders.services import after_sales
from fenxiao.testing import login, make_address, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

BUYER, RECIPIENT, DISTRIBUTOR = "13800000001", "13900000002", "13700000003"
MASKED = {BUYER: "138****0001", RECIPIENT: "139****0002", DISTRIBUTOR: "137****0003"}


def member_of(role: str):
    ensure_staff_groups()
    user = make_staff(role)
    user.groups.add(Group.objects.get(name=role))
    return login(user)


@pytest.fixture
def order():
    """A paid order of a buyer with no nickname (their name is their phone), shipped to
    another phone, attributed to a distributor, with an after-sale the buyer asked for."""
    distributor = make_distributor(user=make_buyer(DISTRIBUTOR))
    buyer = make_buyer(BUYER)
    binding.record_touch(buyer, distributor, TouchSource.LINK)
    make_address(buyer, phone=RECIPIENT)
    order = buy(buyer, (sku(make_product(price=5000)), 1))
    assert order.attribution.level1 == distributor
    after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": order.lines.get().pk}]
    )
    return order


def page(client, url) -> str:
    reply = client.get(url)
    assert reply.status_code == 200, url
    return reply.content.decode()


def order_pages(order) -> dict[str, list[str]]:
    """Each page with the phones it shows."""
    after_sale = AfterSale.objects.get(order=order)
    orders = reverse("admin:orders_order_changelist")
    after_sale_list = reverse("admin:orders_aftersale_changelist")
    return {
        orders: [BUYER, DISTRIBUTOR],
        reverse("admin:orders_order_change", args=[order.pk]): [BUYER, RECIPIENT, DISTRIBUTOR],
        f"{orders}{order.pk}/refund/": [BUYER, RECIPIENT],  # a detail action's summary
        after_sale_list: [BUYER],
        reverse("admin:orders_aftersale_change", args=[after_sale.pk]): [BUYER],
        f"{after_sale_list}{after_sale.pk}/message/": [BUYER],
    }


def test_finance_sees_masked_phones_on_the_order_and_after_sale_pages(order):
    finance = member_of(FINANCE)
    for url, phones in order_pages(order).items():
        body = page(finance, url)
        for phone in (BUYER, RECIPIENT, DISTRIBUTOR):
            assert phone not in body, (url, phone)
        for phone in phones:
            assert MASKED[phone] in body, (url, phone)


def test_the_order_page_names_the_buyer_and_recipient_by_masked_phone_for_finance(order):
    finance = member_of(FINANCE)
    reply = finance.get(reverse("admin:orders_order_change", args=[order.pk]))
    fields = {
        field.field["name"]: str(field.contents())
        for fieldset in reply.context["adminform"]
        for line in fieldset
        for field in line
    }
    assert fields["buyer_display"] == MASKED[BUYER]
    assert fields["recipient_phone_display"] == MASKED[RECIPIENT]


def test_operations_see_whole_phones(order):
    operations = member_of(OPERATIONS)
    for url, phones in order_pages(order).items():
        body = page(operations, url)
        for phone in phones:
            assert phone in body, (url, phone)
            assert MASKED[phone] not in body, (url, phone)


def test_staff_in_the_order_log_keep_their_whole_phone(order):
    """Only buyers' phones are personal data to hide; a colleague is named as before."""
    from fenxiao.core.admin import user_text

    colleague = make_staff("kefu")
    colleague.phone = "13600000004"
    assert user_text(colleague, full_phone=False) == "13600000004"
    assert user_text(order.buyer, full_phone=False) == MASKED[BUYER]
    assert user_text(order.buyer) == BUYER
