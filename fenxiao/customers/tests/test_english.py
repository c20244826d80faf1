"""English on the customer console and the account API: the backend's user, customer, tag
and segment pages speak English to a merchant who picked it, the API refuses in the
caller's Accept-Language with the same codes, and Chinese stays the default."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from fenxiao.customers.backoffice.roles import grantable, sections
from fenxiao.customers.errors import WeakPassword
from fenxiao.customers.models import Segment, SmsMessage, Tag
from fenxiao.customers.services import accounts, tags
from fenxiao.customers.services.staff import ensure_staff_groups
from fenxiao.testing import (
    chinese_left,
    english_backend_page,
    in_english,
    login,
    make_address,
    make_buyer,
    make_category,
    make_product,
    make_staff,
)

pytestmark = pytest.mark.django_db

# The export actions every exportable list carries are core's strings, not this app's.
CORE_ACTIONS = ("导出所选（CSV）", "导出所选（Excel）")
# The two ready-made roles' names are stored group names (data the merchant sees as is).
ROLES = ("运营", "财务")


@pytest.fixture
def boss() -> Client:
    return in_english(login(make_staff("boss", superuser=True)))


@pytest.fixture
def buyer():
    user = make_buyer("13912345678", nickname="Alice")
    make_address(
        user,
        recipient="Alice Wang",
        province="Zhejiang",
        city="Hangzhou",
        district="Xihu",
        detail="100 Wensan Road",
    )
    return user


def rule_tag_data() -> list[str]:
    """The automatic tags the shop starts with: the merchant's data (names, descriptions)."""
    tags.ensure_rule_tags()
    return [text for tag in Tag.objects.all() for text in (tag.name, tag.description)]


def permission_data() -> list[str]:
    """The permission picker names every app's models: other apps' names are not this
    app's to translate."""
    with translation.override("en"):
        return [
            str(text)
            for section in sections(grantable(), set())
            for text in [
                section["title"],
                *(row["label"] for row in section["rows"]),
                *(other["label"] for row in section["rows"] for other in row["others"]),
            ]
        ]


def english_page(client, url, *data) -> str:
    return english_backend_page(client, url, *data, *CORE_ACTIONS)


def test_user_list_and_pages_in_english(boss, buyer):
    english_page(boss, reverse("admin:customers_user_changelist"), *ROLES)
    body = english_page(
        boss,
        reverse("admin:customers_user_change", args=[buyer.pk]),
        *permission_data(),
        *ROLES,
    )
    assert "Reset password" in body and "Personal info" in body and "Shipping addresses" in body
    english_page(boss, reverse("admin:customers_user_add"), *permission_data(), *ROLES)


def test_role_page_in_english(boss):
    ensure_staff_groups()
    from django.contrib.auth.models import Group

    role = Group.objects.get(name="运营")
    body = english_page(boss, reverse("admin:auth_group_change", args=[role.pk]), *ROLES, *permission_data())
    assert "Operations: products and home page" in body
    english_page(boss, reverse("admin:auth_group_changelist"), *ROLES)


def test_customer_list_and_profile_in_english(boss, buyer):
    data = rule_tag_data()
    body = english_page(boss, reverse("admin:customers_customer_changelist"), *data)
    assert "Sign-up source" in body and "Total spend" in body and "Alice" in body
    body = english_page(boss, reverse("admin:customers_customer_change", args=[buyer.pk]), *data)
    assert "Customer: Alice" in body and "Browsing trail (latest first)" in body
    assert "Bound to: not bound" in body


def test_tag_pages_in_english(boss):
    data = rule_tag_data()
    manual = Tag.objects.create(name="VIP", description="Our best friends")
    body = english_page(boss, reverse("admin:customers_tag_changelist"), *data)
    assert "Rule and threshold" in body and "Applied by staff from the customer list" in body
    dormant = Tag.objects.get(rule="dormant")
    english_page(boss, reverse("admin:customers_tag_change", args=[dormant.pk]), *data)
    english_page(boss, reverse("admin:customers_tag_change", args=[manual.pk]), *data)
    english_page(boss, reverse("admin:customers_tag_add"), *data)
    english_page(boss, reverse("admin:customers_tag_recompute_now"), *data)


def test_segment_pages_and_product_picker_in_english(boss, buyer):
    data = rule_tag_data()
    tea = make_product("Longjing Tea", category=make_category("Tea"))
    gone = make_product("Old Mug", category=make_category("Mugs"), listed=False)
    segment = Segment.objects.create(
        name="Tea lovers",
        description="Looked at tea",
        criteria={"product_action": "viewed", "products": [tea.pk, gone.pk], "bound": "none"},
    )
    body = english_page(boss, reverse("admin:customers_segment_changelist"), *data)
    assert "Current customers" in body
    body = english_page(boss, reverse("admin:customers_segment_add"), *data)
    assert "Product activity" in body and "Counting matching customers…" in body
    body = english_page(boss, reverse("admin:customers_segment_change", args=[segment.pk]), *data)
    assert "Longjing Tea" in body and "Old Mug (delisted)" in body
    count = boss.get(reverse("admin:customers_segment_live_count"), {"bound": "any"}).content.decode()
    assert chinese_left(count) == [] and "Matching customers" in count
    refused = boss.get(
        reverse("admin:customers_segment_live_count"), {"spend_min": "50", "spend_max": "10"}
    ).content.decode()
    assert chinese_left(refused) == [] and "cannot exceed" in refused
    picked = boss.get(reverse("admin:customers_segment_products"), {"term": "Mug"}).json()
    assert [row["text"] for row in picked["results"]] == ["Old Mug (delisted)"]


def test_sms_outbox_in_english(boss):
    from django.utils import timezone

    SmsMessage.objects.create(
        phone="13912345678",
        purpose="register",
        template="register_code",
        text="【分销商城】您的注册验证码为 123456",
        gateway="sandbox",
        next_attempt_at=timezone.now(),
    )
    body = english_page(
        boss, reverse("admin:customers_smsmessage_changelist"), "【分销商城】您的注册验证码为 123456"
    )
    assert "Pending" in body and "Sign-up" in body


def api(path, body, language=None):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return Client().post(f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers)


def test_api_refusals_follow_accept_language():
    make_buyer("13912345678")
    bad_phone = {"phone": "12345", "password": "Buyer#2026x", "code": "123456"}
    english, chinese = api("/auth/register", bad_phone, "en"), api("/auth/register", bad_phone)
    assert english.status_code == chinese.status_code == 400
    assert english.json() == {
        "code": "INVALID_PHONE",
        "message": "Please enter a valid mainland China phone number",
    }
    assert chinese.json() == {"code": "INVALID_PHONE", "message": "请输入有效的中国大陆手机号"}

    wrong = {"phone": "13912345678", "password": "Wrong#2026"}
    english, chinese = api("/auth/login", wrong, "en"), api("/auth/login", wrong, "zh-hans")
    assert english.status_code == chinese.status_code == 401
    assert english.json() == {"code": "LOGIN_FAILED", "message": "Incorrect phone number or password"}
    assert chinese.json() == {"code": "LOGIN_FAILED", "message": "手机号或密码错误"}

    neither = api("/auth/login", {"password": "x"}, "en").json()
    assert neither == {"code": "INVALID_INPUT", "message": "Enter either a phone number or a username"}


def test_password_too_short_in_both_languages():
    with translation.override("en"), pytest.raises(WeakPassword) as english:
        accounts.create_buyer(phone="13900001111", password="a1#")
    assert "This password is too short. It must contain at least 8 characters." in english.value.message
    assert not chinese_left(english.value.message)
    with translation.override("zh-hans"), pytest.raises(WeakPassword) as chinese:
        accounts.create_buyer(phone="13900001111", password="a1#")
    assert "密码太短，至少需要8个字符。" in chinese.value.message


def test_chinese_stays_the_default(buyer):
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    rule_tag_data()
    body = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "注册来源" in body and "累计消费" in body and "Sign-up source" not in body
    body = client.get(reverse("admin:customers_customer_change", args=[buyer.pk])).content.decode()
    assert "客户详情：Alice" in body and "当前绑定：未绑定" in body
