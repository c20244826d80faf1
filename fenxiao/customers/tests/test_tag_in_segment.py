"""A manual tag a 客户分群 filters by is not deleted from under it: its delete page names the
segments that use it (受保护的相关对象) instead of letting the segment silently change (a
全部包含 segment would hold nobody). A tag no segment uses is deleted as before, one by one
or from the list."""

import pytest
from django.urls import reverse

from fenxiao.customers.models import Segment, Tag
from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def delete_page(client, tag):
    return client.get(reverse("admin:customers_tag_delete", args=[tag.pk]))


def test_a_tag_a_segment_uses_is_kept_and_the_page_names_the_segment(boss):
    vip, other = Tag.objects.create(name="VIP"), Tag.objects.create(name="老客")
    Segment.objects.create(name="高价值", criteria={"tags_all": [vip.pk, other.pk]})
    Segment.objects.create(name="非会员", criteria={"tags_none": [vip.pk]})
    Segment.objects.create(name="新客", criteria={"orders_max": 0})
    page = delete_page(boss, vip)
    html = page.content.decode()
    assert "客户分群：高价值" in html and "客户分群：非会员" in html and "新客" not in html
    boss.post(reverse("admin:customers_tag_delete", args=[vip.pk]), {"post": "yes"})
    assert Tag.objects.filter(pk=vip.pk).exists()


def test_the_list_action_keeps_them_too(boss):
    vip, spare = Tag.objects.create(name="VIP"), Tag.objects.create(name="临时")
    Segment.objects.create(name="会员", criteria={"tags_any": [vip.pk]})
    changelist = reverse("admin:customers_tag_changelist")
    page = boss.post(
        changelist, {"action": "delete_selected", "_selected_action": [vip.pk, spare.pk], "post": "yes"}
    )
    assert "客户分群：会员" in page.content.decode()
    assert Tag.objects.filter(pk__in=[vip.pk, spare.pk]).count() == 2


def test_a_tag_no_segment_uses_is_deleted(boss):
    spare = Tag.objects.create(name="临时")
    Segment.objects.create(name="新客", criteria={"orders_max": 0})
    boss.post(reverse("admin:customers_tag_delete", args=[spare.pk]), {"post": "yes"})
    assert not Tag.objects.filter(pk=spare.pk).exists()
