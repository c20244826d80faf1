"""提前结束所选活动 on the 营销活动 list: a confirmation page naming what was ticked, then
the running and upcoming ones end now (their open groups closing at the next sweep), those
already ended are skipped and named, and the ended ones are read only afterwards. Only staff
who may end a promotion on its page may do it from the list, and a failure part-way leaves
every promotion as it was."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from fenxiao.promotions.models import GroupBuy, Promotion
from fenxiao.promotions.services import manage
from fenxiao.testing import login, make_buyer, make_product, make_staff

from .factories import make_flash, make_group, make_spend
from .test_groups import GROUP_PRICE, buy_in_group

pytestmark = pytest.mark.django_db

LIST = reverse("admin:promotions_promotion_changelist")


def marketing(*codenames: str):
    user = make_staff("marketing")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="promotions", codename__in=codenames)
    )
    return login(user)


def ask(client, promotions):
    """The action chosen from the list's menu with `promotions` ticked."""
    ids = [str(p.pk) for p in promotions]
    return client.post(LIST, {"action": "end_selected", "index": "0", "_selected_action": ids})


def confirm(client, promotions):
    ids = [str(p.pk) for p in promotions]
    return client.post(
        LIST, {"action": "end_selected", "_confirm": "1", "select_across": "0", "_selected_action": ids}
    )


def texts(reply) -> list[str]:
    return [str(m) for m in get_messages(reply.wsgi_request)]


def states(*promotions) -> list[str]:
    return [Promotion.objects.get(pk=p.pk).state() for p in promotions]


@pytest.fixture
def shop():
    return {
        "running": make_flash(make_product(), price=100, name="周末秒杀"),
        "upcoming": make_spend([(10000, 500)], name="下周满减", starts_in=timedelta(days=7)),
        "ended": make_spend([(10000, 500)], name="上月满减", starts_in=timedelta(days=-30), hours=24),
        "other": make_flash(make_product(), price=100, name="不选的秒杀"),
    }


def test_the_selected_end_after_a_confirmation_and_ended_ones_are_skipped(shop):
    boss = login(make_staff("boss", superuser=True))
    picked = [shop["running"], shop["upcoming"], shop["ended"]]

    page = ask(boss, picked)
    assert page.status_code == 200
    text = page.content.decode()
    assert "提前结束所选活动" in text and "立即结束" in text
    assert "周末秒杀（进行中）" in text and "上月满减（已结束）" in text
    assert "结束后买家立即恢复原价购买" in text
    assert states(shop["running"], shop["upcoming"]) == ["running", "upcoming"]

    reply = confirm(boss, picked)
    assert reply.status_code == 302
    assert texts(reply) == ["已结束 2 个活动", "跳过 1 个已结束的活动：上月满减"]
    assert states(shop["running"], shop["upcoming"], shop["other"]) == ["ended", "ended", "running"]
    ended = Promotion.objects.get(pk=shop["ended"].pk)
    assert ended.ended_at is None  # left as it was, not ended a second time

    # Ended this way, a promotion is read only, as one ended from its own page.
    form = boss.get(reverse("admin:promotions_promotion_change", args=[shop["running"].pk]))
    assert form.status_code == 200 and 'name="_save"' not in form.content.decode()


def test_nothing_left_to_end_says_so():
    boss = login(make_staff("boss", superuser=True))
    old = make_spend([(10000, 500)], name="上月满减", starts_in=timedelta(days=-30), hours=24)
    reply = confirm(boss, [old])
    assert texts(reply) == ["跳过 1 个已结束的活动：上月满减"]


def test_staff_who_may_not_change_promotions_cannot_end_them_from_the_list(shop):
    viewer = marketing("view_promotion")
    assert "end_selected" not in viewer.get(LIST).content.decode()
    for reply in (ask(viewer, [shop["running"]]), confirm(viewer, [shop["running"]])):
        assert reply.status_code in (200, 302)
    assert states(shop["running"]) == ["running"]

    editor = marketing("view_promotion", "change_promotion")
    assert "end_selected" in editor.get(LIST).content.decode()
    confirm(editor, [shop["running"]])
    assert states(shop["running"]) == ["ended"]


def test_ending_group_buys_in_bulk_closes_their_open_groups_now():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3, hours=240)
    buy_in_group(make_buyer(), product, promotion=promotion)
    outcome = manage.end_early_many(Promotion.objects.filter(pk=promotion.pk), make_staff())
    assert (outcome.ended, outcome.skipped) == (1, 0)
    assert GroupBuy.objects.get(promotion=promotion).deadline <= timezone.now()


def test_a_failure_part_way_leaves_every_promotion_as_it_was(shop, monkeypatch):
    class Broken:
        class objects:  # noqa: N801 - stands in for the model's manager
            @staticmethod
            def filter(*args, **kwargs):
                raise RuntimeError("database went away")

    monkeypatch.setattr(manage, "GroupBuy", Broken)
    picked = Promotion.objects.filter(pk__in=[shop["running"].pk, shop["upcoming"].pk])
    with pytest.raises(RuntimeError):
        manage.end_early_many(picked, make_staff())
    assert states(shop["running"], shop["upcoming"]) == ["running", "upcoming"]
