"""A merchant who wants to hand a coupon to a tag or to every big spender finds the way from
the coupon's 发放给买家 page (a 定向推送 preset with the coupon), and the read-only lists say
where their rows come from while empty, with a link to the page that makes them; their
filters offer only what has rows (the group buys with groups, the coupons handed out)."""

import re

import pytest
from django.urls import reverse

from fenxiao.promotions.models import GroupBuy, hand_out_audience
from fenxiao.promotions.services.coupons import issue
from fenxiao.testing import english_backend_page, login, make_buyer, make_product, make_staff

from .factories import make_coupon, make_flash, make_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def test_the_issue_page_leads_to_a_push_preset_with_the_coupon(boss):
    coupon = make_coupon(amount=1000, valid_days=7, name="老客回馈券")
    page = boss.get(reverse("admin:promotions_coupon_issue_to_buyers", args=[coupon.pk])).content.decode()
    preset = reverse("admin:promotions_push_add") + f"?carries=coupon&amp;coupon={coupon.pk}"
    assert f'href="{preset}"' in page and "用定向推送发这张券" in page

    form = boss.get(reverse("admin:promotions_push_add") + f"?carries=coupon&coupon={coupon.pk}")
    text = form.content.decode()
    assert form.status_code == 200
    assert '<option value="coupon" selected>' in text
    assert f'<option value="{coupon.pk}" selected>老客回馈券</option>' in text


@pytest.mark.parametrize(
    ("listing", "sentence", "target"),
    [
        ("couponissue", "商家发出的券记在这里", "admin:promotions_coupon_changelist"),
        ("buyercoupon", "都会出现在这里", "admin:promotions_coupon_changelist"),
        ("groupbuy", "团和成员会出现在这里", "admin:promotions_promotion_add"),
    ],
)
def test_an_empty_read_only_list_says_where_its_rows_come_from(boss, listing, sentence, target):
    url = reverse(f"admin:promotions_{listing}_changelist")
    text = boss.get(url).content.decode()
    assert sentence in text and f'href="{reverse(target)}' in text
    # Narrowed by a search, the list offers to reset it instead.
    narrowed = boss.get(url, {"q": "没有这个"}).content.decode()
    assert sentence not in narrowed and "重置筛选" in narrowed
    english_backend_page(boss, url)


def filter_choices(page: str, parameter: str) -> set[str]:
    return set(re.findall(rf"{parameter}=(\d+)", page))


def test_the_group_list_filters_by_group_buys_and_the_issue_log_by_coupons_handed_out(boss):
    make_flash(make_product(), price=100, name="周末闪购")
    make_group(make_product(), price=5900, name="没人开团")
    groups = [make_group(make_product(), price=5900, name=f"两人拼团{n}") for n in (1, 2)]
    for group in groups:
        GroupBuy.objects.create(
            promotion=group, item=group.items.get(), leader=make_buyer(), size=2, deadline=group.ends_at
        )
    page = boss.get(reverse("admin:promotions_groupbuy_changelist")).content.decode()
    assert filter_choices(page, "promotion__id__exact") == {str(g.pk) for g in groups}

    handed = [make_coupon(amount=500, valid_days=7) for _ in range(2)]
    make_coupon(amount=800, valid_days=7, name="从未发放")
    for coupon in handed:
        issue(coupon, [make_buyer().pk], None, audience=hand_out_audience(["13800000001"]))
    page = boss.get(reverse("admin:promotions_couponissue_changelist")).content.decode()
    assert filter_choices(page, "coupon__id__exact") == {str(c.pk) for c in handed}
