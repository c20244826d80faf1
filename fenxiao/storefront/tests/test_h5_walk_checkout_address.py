"""确认订单 → + 新增收货地址 → 保存: back at 确认订单 the address just added is the one
chosen. Before, the page came back with the default address still ticked, and a buyer who
did not look again sent the parcel to the old address."""

import re
from urllib.parse import quote

import pytest

from fenxiao.customers.models import Address
from fenxiao.testing import login, make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "recipient": "李四",
    "phone": "13900139000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文一西路 969 号 公司前台",
}


def chosen_recipient(html: str) -> str:
    """The recipient of the address ticked on 确认订单."""
    ticked = re.search(
        r'name="address" value="\d+" checked[^>]*>\s*<span class="user-text"><b>([^<]+)</b>', html
    )
    return ticked.group(1)


def test_an_address_added_from_checkout_is_the_one_chosen():
    buyer = make_buyer()
    make_address(buyer, recipient="张三")  # the default
    sku = make_product("龙井茶").skus.get()
    client = login(buyer)
    checkout = f"/checkout/?sku={sku.pk}&qty=2"
    assert chosen_recipient(client.get(checkout).content.decode()) == "张三"

    reply = client.post(f"/me/addresses/new/?next={quote(checkout)}", {**NEW_ADDRESS, "next": checkout})

    added = Address.objects.get(user=buyer, recipient="李四")
    assert not added.is_default
    assert reply["Location"] == f"/checkout/?sku={sku.pk}&qty=2&address={added.pk}"
    assert chosen_recipient(client.get(reply["Location"]).content.decode()) == "李四"


def test_it_replaces_the_address_chosen_before():
    """The buyer had ticked another address (it is in the page's address) before adding one."""
    buyer = make_buyer()
    make_address(buyer, recipient="张三")
    office = make_address(buyer, recipient="王五", is_default=False)
    client = login(buyer)
    checkout = f"/checkout/?lines=3,4&fulfilment=&address={office.pk}"

    reply = client.post("/me/addresses/new/", {**NEW_ADDRESS, "next": checkout})

    added = Address.objects.get(user=buyer, recipient="李四")
    assert reply["Location"] == f"/checkout/?lines=3%2C4&fulfilment=&address={added.pk}"


def test_from_the_address_book_it_goes_back_as_before():
    buyer = make_buyer()
    reply = login(buyer).post("/me/addresses/new/", NEW_ADDRESS)
    assert reply["Location"] == "/me/addresses/"
