"""A new promotion's backend form: the header says which kind is being created, every input
of the items grid looks like one, and a refusal about the promotion's own fields (a start
in the past, group rules) shows at that field, not under 活动商品."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fenxiao.promotions.models import Promotion
from fenxiao.testing import make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def add_url(kind: str) -> str:
    return reverse("admin:promotions_promotion_add") + f"?kind={kind}"


def header(page: str) -> str:
    """The text of the page header's title (its <h1>), tags dropped."""
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", h1).split())


def input_class(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    found = re.search(r'class="([^"]*)"', tag)
    return found.group(1) if found else ""


def form_data(product, starts_at, **extra) -> dict:
    ends_at = starts_at + timedelta(days=3)
    data = {
        "name": "双12秒杀",
        "per_buyer_limit": "0",
        "commission_mode": "normal",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-product": str(product.pk),
        "items-0-price": "59.00",
        "_save": "保存",
    }
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        local = timezone.localtime(value)
        data[f"{field}_0"], data[f"{field}_1"] = f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}"
    return {**data, **extra}


@pytest.mark.parametrize(
    "kind, heading", [("flash", "新建限时折扣"), ("spend", "新建满减"), ("group", "新建拼团")]
)
def test_the_header_says_which_kind_is_being_created(boss, kind, heading):
    page = boss.get(add_url(kind)).content.decode()
    assert header(page) == f"营销活动 chevron_right {heading}"
    assert re.search(rf"<title>\s*{heading} \|", page)


def test_the_sku_code_input_looks_like_the_other_inputs(boss):
    page = boss.get(add_url("flash")).content.decode()
    styled = input_class(page, "name")
    assert styled and input_class(page, "items-0-sku_code") == styled


def test_a_start_in_the_past_is_shown_at_the_start_field(boss):
    product = make_product(price=9900)
    reply = boss.post(add_url("flash"), form_data(product, timezone.now() - timedelta(days=1)))
    assert reply.status_code == 200
    form = reply.context["adminform"].form
    assert form.errors["starts_at"] == ["开始时间不能早于当前时间"]
    (items,) = reply.context["inline_admin_formsets"]
    assert list(items.formset.non_form_errors()) == []
    assert not Promotion.objects.exists()


def test_group_rules_are_refused_at_their_fields(boss):
    product = make_product(price=9900)
    data = form_data(
        product, timezone.now() + timedelta(hours=1), group_size="1", group_hours="24", virtual_fill=""
    )
    reply = boss.post(add_url("group"), data)
    assert reply.status_code == 200
    assert reply.context["adminform"].form.errors["group_size"] == ["成团人数必须在 2–100 人之间"]
    assert list(reply.context["inline_admin_formsets"][0].formset.non_form_errors()) == []


def test_a_refusal_about_the_items_stays_under_the_items(boss):
    product = make_product(price=9900)
    data = form_data(product, timezone.now() + timedelta(hours=1), **{"items-0-price": "99.00"})
    reply = boss.post(add_url("flash"), data)
    assert reply.status_code == 200
    assert not reply.context["adminform"].form.errors
    (items,) = reply.context["inline_admin_formsets"]
    assert any("活动价必须低于售价" in e for e in items.formset.non_form_errors())


def test_a_limit_past_the_ceiling_is_refused_at_its_field(boss):
    product = make_product(price=9900)
    data = form_data(product, timezone.now() + timedelta(hours=1), per_buyer_limit="10000")
    reply = boss.post(add_url("flash"), data)
    assert reply.status_code == 200
    errors = reply.context["adminform"].form.errors
    assert errors["per_buyer_limit"] == ["每人限购不能超过 9999 件（0 表示不限）"]
    assert not Promotion.objects.exists()
