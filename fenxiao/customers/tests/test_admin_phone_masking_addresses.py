"""The user page's 收货地址 masks the address phone (139****0002) for staff who may not see
phones (财务: no `customers.view_customer_phone`), as the user's own phone and the 客户 pages
do; 运营 and a superuser see it whole."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.testing import login, make_address, make_buyer, make_staff

pytestmark = pytest.mark.django_db

OWN, RECIPIENT = "13800000001", "13900000002"
MASKED = {OWN: "138****0001", RECIPIENT: "139****0002"}


def role(name: str):
    ensure_staff_groups()
    user = make_staff(name)
    user.groups.add(Group.objects.get(name=name))
    return login(user)


@pytest.fixture
def buyer():
    buyer = make_buyer(OWN)
    make_address(buyer, recipient="王小明", phone=RECIPIENT, detail="人民路 8 号")
    return buyer


def user_page(client, buyer) -> str:
    reply = client.get(reverse("admin:customers_user_change", args=[buyer.pk]))
    assert reply.status_code == 200
    return reply.content.decode()


def test_finance_sees_the_address_phone_masked(buyer):
    text = user_page(role(FINANCE), buyer)
    assert "王小明" in text and "人民路 8 号" in text
    for phone in (OWN, RECIPIENT):
        assert phone not in text, phone
        assert MASKED[phone] in text, phone


@pytest.mark.parametrize("who", [OPERATIONS, "superuser"])
def test_operations_and_a_superuser_see_the_address_phone_whole(buyer, who):
    client = login(make_staff("boss", superuser=True)) if who == "superuser" else role(OPERATIONS)
    text = user_page(client, buyer)
    assert RECIPIENT in text and MASKED[RECIPIENT] not in text


def test_the_user_page_costs_the_same_queries_for_more_addresses(buyer, django_assert_max_num_queries):
    client = role(FINANCE)
    user_page(client, buyer)  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        user_page(client, buyer)
    for n in range(5):
        make_address(buyer, phone=f"1370000000{n}", is_default=False)
    with django_assert_max_num_queries(len(few)):
        text = user_page(client, buyer)
    assert "137****0004" in text and "13700000004" not in text
