"""A merchant who wants to hand a coupon to a tag or to every big spender finds the way from
the coupon's 发放给买家 page (a 定向推送 preset with the coupon), and the read-only lists say
where their rows come from while empty, with a link to the page that makes them."""

import pytest
from django.urls import reverse

from fenxiao.testing import english_backend_page, login, make_staff

from .factories import make_coupon

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
