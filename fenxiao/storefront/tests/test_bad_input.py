"""Bad input anywhere gets a 4xx with a code and a Chinese message, never a 500, and writes nothing."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fenxiao.customers.models import Address, User
from fenxiao.distribution.models import Touch
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.orders.models import CartLine
from fenxiao.orders.services import cart
from fenxiao.testing import ApiClient, api_for, make_address, make_buyer, make_product, sms_code_for

pytestmark = pytest.mark.django_db

HUGE = str(2**62 + 1)


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def assert_json_refused(reply, status, code):
    assert reply.status_code == status, reply.content
    body = reply.json()
    assert body["code"] == code, body
    assert has_chinese(body["message"]), body
    return body


def assert_page_refused(reply, status, code):
    assert reply.status_code == status, reply.content[:300]
    text = reply.content.decode()
    assert code in text
    assert has_chinese(text)


# --- huge page numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/products",
        "/orders",
        "/after-sales",
        "/distribution/team",
        "/distribution/withdrawals",
    ],
)
def test_a_page_past_the_end_of_the_integers_is_refused(path):
    distributor = make_distributor()
    client = api_for(distributor.user)
    assert_json_refused(client.get(path, page=HUGE), 422, "INVALID_INPUT")
    assert_json_refused(client.get(path, page_size=HUGE), 422, "INVALID_INPUT")
    assert client.get(path, page=2).status_code == 200


@pytest.mark.parametrize("path", ["/distribution/commissions", "/distribution/ledger"])
def test_a_cursor_past_the_end_of_the_integers_is_refused(path):
    """Lists paged by key take `before` (an id), bounded like an id column."""
    client = api_for(make_distributor().user)
    assert_json_refused(client.get(path, before=str(2**63)), 422, "INVALID_INPUT")
    assert_json_refused(client.get(path, before="0"), 422, "INVALID_INPUT")
    assert_json_refused(client.get(path, page_size=HUGE), 422, "INVALID_INPUT")
    assert_json_refused(client.get(path, page=2), 422, "INVALID_INPUT")  # paged by key now
    assert client.get(path, before=str(2**63 - 1)).json() == {"items": [], "next": None}


def test_h5_search_with_a_huge_page_is_refused():
    make_product("纯棉T恤")
    assert_page_refused(Client().get("/search/", {"q": "T恤", "page": HUGE}), 400, "INVALID_PAGE")


@pytest.mark.parametrize("page", ["", "abc", "0", "-3", "1"])
def test_h5_search_with_an_odd_page_shows_the_first_page(page):
    product = make_product("纯棉T恤")
    reply = Client().get("/search/", {"q": "T恤", "page": page})
    assert reply.status_code == 200
    assert product.name in reply.content.decode()


# --- NUL bytes -----------------------------------------------------------------------------


def test_nul_in_an_api_query_string_is_refused():
    assert_json_refused(ApiClient().get("/products", q="T\x00"), 400, "INVALID_CHARACTERS")


@pytest.mark.parametrize("path", ["/search/?q=a%00b", "/categories/?c=%00", "/products/1/?x=%00"])
def test_nul_in_an_h5_query_string_is_refused(path):
    assert_page_refused(Client().get(path), 400, "INVALID_CHARACTERS")


def test_nul_in_a_referral_target_is_refused_and_records_nothing():
    distributor = make_distributor()
    reply = Client().get(f"/r/{distributor.referral_code}?to=/products/%00")
    assert_page_refused(reply, 400, "INVALID_CHARACTERS")
    assert not Touch.objects.exists()


def test_nul_in_api_registration_writes_nothing():
    body = {"phone": "13900000001", "password": "Secret#2026", "nickname": "小\x00王"}
    assert_json_refused(ApiClient().post("/auth/register", body), 400, "INVALID_CHARACTERS")
    assert not User.objects.filter(phone="13900000001").exists()


def test_raw_nul_byte_in_a_json_body_is_refused():
    reply = Client().post(
        "/api/v1/auth/register",
        b'{"phone": "13900000001", "password": "Secret#2026", "nickname": "\x00"}',
        content_type="application/json",
    )
    assert_json_refused(reply, 400, "INVALID_CHARACTERS")


def test_an_escaped_backslash_before_u0000_is_not_a_nul():
    code = sms_code_for("13900000001")
    body = json.dumps(
        {"phone": "13900000001", "password": "Secret#2026", "code": code, "nickname": "a\\u0000"}
    )
    reply = Client().post("/api/v1/auth/register", body, content_type="application/json")
    assert reply.status_code == 201, reply.content


def test_nul_in_h5_registration_writes_nothing():
    data = {"phone": "1390000\x000001", "password": "Secret#2026", "password2": "Secret#2026"}
    assert_page_refused(Client().post("/register/", data), 400, "INVALID_CHARACTERS")
    assert not User.objects.exclude(phone=None).exists()


def test_nul_in_an_address_writes_nothing():
    buyer = make_buyer()
    body = {
        "recipient": "张三",
        "phone": "13800138000",
        "province": "浙江省",
        "city": "杭州市",
        "detail": "x\x00",
    }
    assert_json_refused(api_for(buyer).post("/addresses", body), 400, "INVALID_CHARACTERS")
    browser = Client()
    browser.force_login(buyer)
    assert_page_refused(browser.post("/me/addresses/new/", body), 400, "INVALID_CHARACTERS")
    assert not Address.objects.exists()


# --- someone else's address, a bad next, a vanished cart line -----------------------------


def test_editing_someone_elses_address_is_not_found():
    owner, other = make_buyer(), make_buyer()
    address = make_address(owner)
    browser = Client()
    browser.force_login(other)
    assert_page_refused(browser.get(f"/me/addresses/{address.pk}/edit/"), 404, "ADDRESS_NOT_FOUND")
    reply = browser.post(f"/me/addresses/{address.pk}/edit/", {"recipient": "李四"})
    assert_page_refused(reply, 404, "ADDRESS_NOT_FOUND")
    address.refresh_from_db()
    assert address.recipient == "张三"


@pytest.mark.parametrize("target", ["abc", "//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_with_a_bad_next_goes_to_my_page(target):
    make_buyer("13900000002", password="Secret#2026")
    reply = Client().post(f"/login/?next={target}", {"phone": "13900000002", "password": "Secret#2026"})
    assert reply.status_code == 302
    assert reply["Location"] == "/me/"


def test_login_with_a_site_next_goes_there():
    make_buyer("13900000002", password="Secret#2026")
    reply = Client().post("/login/?next=/cart/", {"phone": "13900000002", "password": "Secret#2026"})
    assert reply["Location"] == "/cart/"


def test_a_cart_line_deleted_while_its_quantity_changes(monkeypatch):
    buyer = make_buyer()
    product = make_product()
    line = cart.add_to_cart(buyer, product.skus.get().pk, 1)
    original_filter = CartLine.objects.select_related

    def select_related_then_delete(*fields):
        qs = original_filter(*fields)
        found = qs.filter(pk=line.pk).first()
        CartLine.objects.filter(pk=line.pk).delete()

        class Stale:
            def filter(self, **kwargs):
                return self

            def first(self):
                return found

        return Stale()

    monkeypatch.setattr(CartLine.objects, "select_related", select_related_then_delete)
    browser = Client()
    browser.force_login(buyer)
    reply = browser.post(f"/cart/lines/{line.pk}/", {"quantity": "3"})
    # (The simulated removal shares the request's transaction, so the refusal rolls it back;
    # what matters is the answer: the message, not a 500, and the quantity untouched.)
    assert reply.status_code == 302, reply.content[:500]
    assert not CartLine.objects.filter(quantity=3).exists()
    follow = browser.get("/cart/")
    assert "购物车中没有该商品" in follow.content.decode()


def test_a_malformed_multipart_form_is_a_400_not_a_500():
    reply = Client().post("/login/", b"garbage", content_type="multipart/form-data")
    assert_page_refused(reply, 400, "INVALID_INPUT")


def test_a_gateway_notification_in_an_unexpected_format_is_refused_not_a_500():
    reply = Client().post("/api/v1/payments/notify/sandbox", b"x", content_type="multipart/form-data")
    assert_json_refused(reply, 400, "INVALID_INPUT")


BIG = str(2**64)


@pytest.mark.parametrize(
    "path",
    [
        f"/categories/?c={BIG}",
        f"/search/?c={BIG}",
        f"/products/{BIG}/",
        f"/me/addresses/{BIG}/edit/",
        f"/d/share/?product={BIG}",
        f"/d/commissions/?page={BIG}",
        f"/d/commissions/?before={BIG}",
        "/d/commissions/?before=-5",
        f"/checkout/?address={BIG}",
    ],
)
def test_numbers_past_64_bits_in_h5_addresses_are_never_a_500(path):
    make_product()
    browser = Client()
    browser.force_login(make_distributor().user)
    assert browser.get(path).status_code < 500
    assert browser.post(path, {"quantity": BIG, "qty": BIG, "sku": BIG, "address": BIG}).status_code < 500


# --- a JSON body labelled as a form: the API parses it as JSON all the same ------------------


@pytest.mark.parametrize("body", [b'"x\x00"', b'"x\\u0000"'])
def test_nul_in_json_labelled_multipart_writes_nothing(body):
    buyer = make_buyer()
    address = {
        "recipient": "张三",
        "phone": "13800138000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "detail": "@",
    }
    payload = json.dumps(address, ensure_ascii=False).encode().replace(b'"@"', body)
    client = Client()
    client.force_login(buyer)
    token = api_for(buyer).token
    for content_type in (
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/plain",
    ):
        reply = client.post(
            "/api/v1/addresses", payload, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert_json_refused(reply, 400, "INVALID_CHARACTERS")
    assert not Address.objects.exists()


def test_nul_in_a_gateway_notification_labelled_multipart_is_refused():
    reply = Client().post(
        "/api/v1/payments/notify/sandbox",
        b'{"trade": "\x00"}',
        content_type="multipart/form-data; boundary=x",
    )
    assert_json_refused(reply, 400, "INVALID_CHARACTERS")


def test_an_upload_too_big_to_hold_sent_to_a_raw_body_endpoint_is_refused(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    photo = SimpleUploadedFile("x.jpg", b"\xff\xd8\x00" * 1000, content_type="image/jpeg")
    reply = Client().post("/api/v1/payments/notify/sandbox", {"trade": "T1", "photo": photo})
    assert_json_refused(reply, 400, "INVALID_INPUT")
