"""立即开始: a merchant whose scheduled sale should open now starts it from its page (the end
stays); one that has started or ended offers no such button, and a start that would put a
product into another flash sale at the same moment is refused in Chinese, never a 500."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from fenxiao.core.errors import DomainError
from fenxiao.promotions.models import PromotionState
from fenxiao.promotions.services import manage
from fenxiao.promotions.services.offers import selling_flash
from fenxiao.testing import english_backend_page, login, make_product, make_staff

from .factories import make_flash

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def start_url(promotion):
    return reverse("admin:promotions_promotion_start_now", args=[promotion.pk])


def test_an_upcoming_sale_starts_now_and_keeps_its_end(boss):
    tea = make_product(price=8900)
    sale = make_flash(tea, price=5900, starts_in=timedelta(days=1), name="周末茶叶节")
    ends_at = sale.ends_at
    page = boss.get(reverse("admin:promotions_promotion_change", args=[sale.pk])).content.decode()
    assert start_url(sale) in page and "立即开始" in page

    confirm = boss.get(start_url(sale)).content.decode()
    assert "开始时间改为现在，结束时间不变" in confirm
    reply = boss.post(start_url(sale), {"_confirm": "1"})
    assert reply.status_code == 302
    assert [str(m) for m in get_messages(reply.wsgi_request)] == [
        "活动“周末茶叶节”已开始，买家现在即可按活动价购买"
    ]
    sale.refresh_from_db()
    assert sale.state() == PromotionState.RUNNING and sale.ends_at == ends_at
    assert timezone.now() - sale.starts_at < timedelta(minutes=1)
    assert selling_flash(tea) is not None


def test_a_running_or_ended_sale_offers_no_start(boss):
    running = make_flash(make_product(), price=100)
    ended = make_flash(make_product(), price=100, starts_in=timedelta(days=1))
    manage.end_early(ended, None)
    for sale in (running, ended):
        page = boss.get(reverse("admin:promotions_promotion_change", args=[sale.pk])).content.decode()
        assert start_url(sale) not in page
    with pytest.raises(DomainError) as refused:
        manage.start_now(running, None)
    assert (refused.value.code, refused.value.message) == ("PROMOTION_STARTED", "活动已经开始")
    with pytest.raises(DomainError, match="活动已结束"):
        manage.start_now(ended, None)


def test_a_start_that_would_overlap_another_flash_sale_is_refused(boss):
    cup = make_product(name="青瓷杯")
    make_flash(cup, price=100, name="今日秒杀", hours=12)
    later = make_flash(cup, price=200, name="明日秒杀", starts_in=timedelta(hours=13))
    reply = boss.post(start_url(later), {"_confirm": "1"})
    assert reply.status_code == 302
    refusal = "商品“青瓷杯”已在同一时段的限时折扣“今日秒杀”中"
    assert [str(m) for m in get_messages(reply.wsgi_request)] == [refusal]
    later.refresh_from_db()
    assert later.state() == PromotionState.UPCOMING


def test_the_start_page_reads_in_english(boss):
    sale = make_flash(make_product(), price=100, starts_in=timedelta(days=1), name="周末茶叶节")
    english_backend_page(boss, start_url(sale), "周末茶叶节")
