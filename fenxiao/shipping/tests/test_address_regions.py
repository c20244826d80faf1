"""The address book takes only real 省/市/区 (H5 form and buyer API), with a picker that
needs no outside network, and clients can read the division tree."""

import pytest

from fenxiao.customers.models import Address
from fenxiao.demo.shop.people import BUYERS
from fenxiao.shipping import regions
from fenxiao.testing import ApiClient, api_for, assert_refused, login, make_address, make_buyer

pytestmark = pytest.mark.django_db

GOOD = {
    "recipient": "张三",
    "phone": "13800138000",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "detail": "科技园南区 8 栋",
}


def test_api_refuses_a_place_that_does_not_exist_and_keeps_a_real_one():
    api = api_for(make_buyer())
    body = assert_refused(api.post("/addresses", {**GOOD, "district": "朝阳区"}), 400, "ADDRESS_INVALID")
    assert "深圳市下没有“朝阳区”" in body["message"]
    assert_refused(api.post("/addresses", {**GOOD, "province": "广东"}), 400, "ADDRESS_INVALID")
    assert not Address.objects.exists()
    assert api.post("/addresses", GOOD).status_code == 201
    address = Address.objects.get()
    assert_refused(api.put(f"/addresses/{address.pk}", {**GOOD, "city": "杭州市"}), 400, "ADDRESS_INVALID")
    assert Address.objects.get().city == "深圳市"


def test_h5_form_offers_the_picker_and_refuses_a_wrong_triple():
    buyer = make_buyer()
    browser = login(buyer)
    page = browser.get("/me/addresses/new/").content.decode()
    assert '<select name="province"' in page and 'data-regions-url="/api/v1/regions"' in page
    assert page.count("<option value=") >= 34 + 3  # every province; city and district wait
    assert "region-picker.js" in page and "://" not in page  # nothing from outside the site
    refused = browser.post("/me/addresses/new/", {**GOOD, "city": "广州市"})
    assert refused.status_code == 400
    assert "广东省广州市下没有“南山区”" in refused.content.decode()
    assert not Address.objects.exists()
    assert browser.post("/me/addresses/new/", GOOD).status_code == 302
    # Editing shows the address's own cities and districts, chosen.
    edit = browser.get(f"/me/addresses/{Address.objects.get().pk}/edit/").content.decode()
    assert '<option value="南山区" selected>' in edit and '<option value="广州市">' in edit


def test_demo_and_test_addresses_are_real_places():
    for _, _, addresses in BUYERS:
        for _, _, province, city, district, _ in addresses:
            assert regions.find_triple(province, city, district) is None, (province, city, district)
    address = make_address(make_buyer())
    assert regions.find_triple(address.province, address.city, address.district) is None


def test_clients_read_the_tree_and_one_level():
    client = ApiClient()
    reply = client.get("/regions")
    assert reply.status_code == 200 and "max-age" in reply["Cache-Control"]
    tree = reply.json()
    assert len(tree) == 34 and tree[0][:2] == ["11", "北京市"]
    assert client.get("/regions/44/children").json()[2] == {"code": "4403", "name": "深圳市"}
    assert len(client.get("/regions/0/children").json()) == 34
    assert_refused(client.get("/regions/99/children"), 404, "REGION_NOT_FOUND")
