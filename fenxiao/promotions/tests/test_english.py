"""Promotions in English when chosen: the backend's lists and forms, and the API's refusals
(same code, English message). Chinese stays the default."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from fenxiao.customers.services.accounts import issue_token
from fenxiao.promotions.models import GroupBuy, GroupMember
from fenxiao.testing import (
    backend_content,
    chinese_left,
    in_english,
    login,
    make_buyer,
    make_category,
    make_product,
    make_staff,
)

from .factories import make_coupon, make_flash, make_group, make_spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


@pytest.fixture
def shop():
    clothing = make_category("Clothing")
    shirt = make_product("Cotton T-shirt", category=clothing)
    coat = make_product("Wool coat", category=clothing)
    make_flash(shirt, price=5900, name="Summer flash sale", limit=2)
    make_spend([(10000, 1000), (20000, 3000, True)], name="Spend more, save more")
    group = make_group(coat, price=19900, name="Coat for two")
    leader = make_buyer()
    buy = GroupBuy.objects.create(
        promotion=group,
        item=group.items.get(),
        leader=leader,
        size=2,
        deadline=group.ends_at,
    )
    GroupMember.objects.create(group=buy, buyer=leader, is_leader=True)
    make_coupon(amount=1000, min_spend=5000, name="Welcome coupon", total_quantity=100)
    make_coupon(discount_bp=1500, max_discount=3000, name="VIP discount", valid_days=7)
    return {"shirt": shirt, "coat": coat}


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def english_page(client, url, *data) -> str:
    body = page(in_english(client), url)
    assert chinese_left(backend_content(body), *data) == [], url
    return body


def test_promotion_list_in_english(boss, shop):
    body = english_page(boss, reverse("admin:promotions_promotion_changelist"))
    assert "Flash discount" in body and "Spend-X-save-Y" in body and "Running" in body
    assert "New flash discount" in body and "New group buy" in body


@pytest.mark.parametrize("kind", ["flash", "spend", "group"])
def test_each_kind_of_promotion_list_and_add_form_in_english(boss, shop, kind):
    english_page(boss, reverse("admin:promotions_promotion_changelist") + f"?kind__exact={kind}")
    body = english_page(boss, reverse("admin:promotions_promotion_add") + f"?kind={kind}")
    assert "Promotion commission" in body
    expected = {
        "flash": "Limit per buyer (units)",
        "spend": "Spend-X-save-Y rules",
        "group": "Group buy rules",
    }
    assert expected[kind] in body


def test_a_promotion_page_in_english(boss, shop):
    from fenxiao.promotions.models import Promotion

    for promotion in Promotion.objects.all():
        body = english_page(boss, reverse("admin:promotions_promotion_change", args=[promotion.pk]))
        assert "Promotion figures" in body


def test_group_buys_in_english(boss, shop):
    body = english_page(boss, reverse("admin:promotions_groupbuy_changelist"))
    assert "In progress" in body


def test_coupon_list_and_forms_in_english(boss, shop):
    body = english_page(boss, reverse("admin:promotions_coupon_changelist"))
    assert "Spend ¥50.00 ¥10.00 off" not in body  # no glued fragments
    # Worded as the API and the share card word it (services.coupons.summary).
    assert "Spend ¥50.00, save ¥10.00" in body and "7 days after claiming" in body
    assert "15% off, no minimum spend, up to ¥30.00 off" in body
    english_page(boss, reverse("admin:promotions_coupon_add"))
    from fenxiao.promotions.models import Coupon

    coupon = Coupon.objects.get(name="Welcome coupon")
    english_page(boss, reverse("admin:promotions_coupon_change", args=[coupon.pk]))
    english_page(boss, reverse("admin:promotions_coupon_issue_to_buyers", args=[coupon.pk]))


def _claim(coupon_id, token, **headers):
    return Client().post(
        f"/api/v1/coupons/{coupon_id}/claim",
        json.dumps({}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def test_a_refused_claim_in_english_keeps_its_code(shop):
    coupon = make_coupon(amount=500, name="One each", per_buyer_limit=1)
    token = issue_token(make_buyer())
    assert _claim(coupon.pk, token).status_code == 201
    english = _claim(coupon.pk, token, HTTP_ACCEPT_LANGUAGE="en")
    chinese = _claim(coupon.pk, token)
    assert english.status_code == chinese.status_code == 409
    assert english.json()["code"] == chinese.json()["code"] == "COUPON_LIMIT_REACHED"
    assert english.json()["message"] == "Limit 1 per buyer, and you have already claimed yours"
    assert chinese.json()["message"] == "每人限领1张，您已领取"

    hidden = make_coupon(amount=500, name="Staff only", claimable=False)
    refused = _claim(hidden.pk, token, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.json() == {
        **refused.json(),
        "code": "COUPON_NOT_FOUND",
        "message": "This coupon does not exist",
    }


def test_the_api_speaks_english_for_coupon_summaries_and_spend_tiers(shop):
    client = Client()
    coupons = client.get("/api/v1/coupons", HTTP_ACCEPT_LANGUAGE="en").json()
    summaries = {c["name"]: c["summary"] for c in coupons}
    assert summaries["Welcome coupon"] == "Spend ¥50.00, save ¥10.00"
    assert summaries["VIP discount"] == "15% off, no minimum spend, up to ¥30.00 off"
    assert client.get("/api/v1/coupons").json()[0]["summary"] in {
        "满¥50.00减¥10.00",
        "无门槛8.5折，最多减¥30.00",
    }


def test_the_backend_stays_chinese_by_default(boss, shop):
    body = page(boss, reverse("admin:promotions_promotion_changelist"))
    assert "限时折扣" in body and "新建拼团" in body
    assert "满¥50.00" in page(boss, reverse("admin:promotions_coupon_changelist")).replace(" ", "")
