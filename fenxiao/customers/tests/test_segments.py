"""Segment membership for each kind of filter and combinations, the live count on the
edit page, the list's counts, and bad input answered in Chinese."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fenxiao.customers.errors import SegmentInvalid
from fenxiao.customers.models import Segment, Tag
from fenxiao.customers.services import figures as figures_service
from fenxiao.customers.services import segments, tags
from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor
from fenxiao.testing import make_buyer

from .crm import operations, paid


def ids(criteria, now=None) -> set[int]:
    segment = Segment(name="x", criteria=segments.clean_criteria(criteria))
    return set(segments.members(segment, now))


@pytest.fixture
def shop(db):
    vip, gift = Tag.objects.create(name="VIP"), Tag.objects.create(name="送礼")
    d1, d2 = make_distributor(), make_distributor()
    a = bound_buyer(d1, source="link")  # bound to d1, 2 orders, ¥300
    paid(a, price=10000)
    paid(a, price=20000)
    b = bound_buyer(d2, source="qr")  # bound to d2, 1 order, ¥50
    paid(b, price=5000)
    c = make_buyer()  # nothing
    tags.add_manual(vip, [a.pk, b.pk])
    tags.add_manual(gift, [b.pk])
    figures_service.add_new_buyers()
    return {
        "vip": vip,
        "gift": gift,
        "d1": d1,
        "d2": d2,
        "a": a,
        "b": b,
        "c": c,
        "u1": d1.user,
        "u2": d2.user,
    }


def test_each_filter_kind(shop):
    s = shop
    pk = {k: s[k].pk for k in ("a", "b", "c", "u1", "u2")}
    everyone = set(pk.values())
    assert ids({}) == everyone
    assert ids({"tags_any": [s["vip"].pk, s["gift"].pk]}) == {pk["a"], pk["b"]}
    assert ids({"tags_all": [s["vip"].pk, s["gift"].pk]}) == {pk["b"]}
    assert ids({"tags_none": [s["vip"].pk]}) == everyone - {pk["a"], pk["b"]}
    assert ids({"spend_min": 30000}) == {pk["a"]}
    assert ids({"spend_max": 5000}) == everyone - {pk["a"]}
    assert ids({"spend_min": 5000, "spend_max": 5000}) == {pk["b"]}
    assert ids({"orders_min": 2}) == {pk["a"]}
    assert ids({"orders_max": 0}) == {pk["c"], pk["u1"], pk["u2"]}
    later = timezone.now() + timedelta(days=10)
    assert ids({"paid_within": 7}) == {pk["a"], pk["b"]}
    assert ids({"paid_within": 7}, later) == set()
    assert ids({"not_paid_within": 7}, later) == everyone
    assert ids({"not_paid_within": 7}) == {pk["c"], pk["u1"], pk["u2"]}
    assert ids({"bound": "any"}) == {pk["a"], pk["b"]}
    assert ids({"bound": "none"}) == {pk["c"], pk["u1"], pk["u2"]}
    assert ids({"bound": "one", "distributor_id": s["d2"].pk}) == {pk["b"]}
    assert ids({"sources": ["qr"]}) == {pk["b"]}
    assert ids({"sources": ["link", "qr"]}) == {pk["a"], pk["b"]}
    assert ids({"registered_within": 1}) == everyone
    assert ids({"registered_within": 1}, timezone.now() + timedelta(days=2)) == set()


def test_combinations_and_one_statement(shop, django_assert_num_queries):
    s = shop
    criteria = segments.clean_criteria(
        {
            "tags_any": [s["vip"].pk],
            "tags_none": [s["gift"].pk],
            "bound": "any",
            "orders_min": 1,
            "spend_min": 100,
        }
    )
    with django_assert_num_queries(1):
        members = set(segments.members(Segment(name="x", criteria=criteria)))
    assert members == {s["a"].pk}
    assert ids({"tags_all": [s["vip"].pk], "sources": ["qr"], "spend_max": 4999}) == set()


def test_bad_criteria_are_refused_in_chinese(shop):
    for bad, words in [
        ({"spend_min": 500, "spend_max": 100}, "下限不能大于上限"),
        ({"orders_min": -1}, "之间"),
        ({"paid_within": "abc"}, "必须是整数"),
        ({"tags_any": [999999]}, "不存在的标签"),
        ({"tags_any": [shop["vip"].pk], "tags_none": [shop["vip"].pk]}, "既要求包含又要求不包含"),
        ({"bound": "one", "distributor_id": 999999}, "分销商"),
        ({"bound": "maybe"}, "绑定分销商条件有误"),
        ({"sources": ["tv"]}, "注册来源有误"),
    ]:
        with pytest.raises(SegmentInvalid) as refused:
            segments.clean_criteria(bad)
        assert words in refused.value.message


def test_edit_page_live_count_save_and_list_counts(shop, django_assert_max_num_queries):
    client = operations()
    live = reverse("admin:customers_segment_live_count")
    reply = client.get(live, {"tags_any": [shop["vip"].pk], "bound": "any"})
    assert reply.status_code == 200 and "data-live-count>2<" in reply.content.decode()
    reply = client.get(live, {"bound": "one", "distributor": shop["d1"].pk})
    assert "data-live-count>1<" in reply.content.decode()
    reply = client.get(live, {"spend_min": "abc", "paid_within": "0"})
    text = reply.content.decode()
    assert reply.status_code == 200 and "data-live-errors" in text and "天数至少为 1" in text
    reply = client.get(live, {"spend_min": "300", "spend_max": "1"})
    assert "累计消费下限不能大于上限" in reply.content.decode()

    add = reverse("admin:customers_segment_add")
    bad = client.post(add, {"name": "", "orders_min": "2", "orders_max": "1"})
    assert bad.status_code == 200 and "请填写分群名称" in bad.content.decode()
    saved = client.post(add, {"name": "高价值", "spend_min": "100", "tags_any": [shop["vip"].pk]})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    segment = Segment.objects.get(name="高价值")
    assert segment.criteria == {"tags_any": [shop["vip"].pk], "spend_min": 10000}
    assert set(segments.members(segment)) == {shop["a"].pk}
    for n in range(5):
        Segment.objects.create(name=f"分群{n}", criteria={"orders_min": n})
    listing = reverse("admin:customers_segment_changelist")
    with django_assert_max_num_queries(12):
        page = client.get(listing)
    text = page.content.decode()
    assert "分群0" in text and "5 人" in text and "1 人" in text
    edit = client.get(reverse("admin:customers_segment_change", args=[segment.pk]))
    assert edit.status_code == 200 and "segment-live-count" in edit.content.decode()


def test_live_count_and_save_never_500_on_garbage(shop):
    client = operations()
    live = reverse("admin:customers_segment_live_count")
    for garbage in (
        {"tags_any": ["abc"]},
        {"tags_none": ["999999"]},
        {"sources": ["tv"]},
        {"bound": "one", "distributor": "NOPE"},
        {"bound": "one", "distributor": "99999999999999999999"},
        {"bound": "one"},
        {"bound": "none", "distributor": "1"},
        {"bound": "<b>"},
        {"spend_min": "1e99"},
        {"orders_max": "99999999999999999999"},
    ):
        reply = client.get(live, garbage)
        assert reply.status_code == 200 and "data-live-errors" in reply.content.decode(), garbage
    add = reverse("admin:customers_segment_add")
    reply = client.post(add, {"name": "坏", "bound": "one", "distributor": "999999"})
    assert reply.status_code == 200 and "所选分销商不存在" in reply.content.decode()
    reply = client.post(add, {"name": "坏", "bound": "one", "distributor": ""})
    assert reply.status_code == 200 and "请选择分销商" in reply.content.decode()
    assert not Segment.objects.filter(name="坏").exists()


def test_finance_may_not_edit_segments_or_ask_counts(shop):
    from .crm import finance

    client = finance()
    assert client.get(reverse("admin:customers_segment_live_count")).status_code == 403
    assert client.get(reverse("admin:customers_segment_add")).status_code == 403


def test_a_segment_leads_to_its_customers_their_export_and_a_push(shop):
    """A segment's count opens the customer list on its members now (read, export, tag
    them), and 定向推送 opens a push to it; before, the count led nowhere."""
    segment = Segment.objects.create(name="VIP 客户", criteria={"tags_any": [shop["vip"].pk]})
    client = operations()
    listing = client.get(reverse("admin:customers_segment_changelist")).content.decode()
    members_url = f"{reverse('admin:customers_customer_changelist')}?segment={segment.pk}"
    assert f'href="{members_url}"' in listing
    assert f'href="{reverse("admin:promotions_push_add")}?segment={segment.pk}"' in listing
    edit = client.get(reverse("admin:customers_segment_change", args=[segment.pk])).content.decode()
    assert f'href="{members_url}"' in edit

    page = client.get(members_url)
    shown = {row.pk for row in page.context["cl"].result_list}
    assert shown == {shop["a"].pk, shop["b"].pk}
    export = client.get(reverse("admin:customers_customer_export", args=["csv"]), {"segment": segment.pk})
    lines = export.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 3 and {line.split(",")[0] for line in lines[1:]} == {
        str(shop["a"].pk),
        str(shop["b"].pk),
    }
    # An unknown or malformed segment narrows nothing and is no error.
    for value in ("999999", "abc"):
        assert (
            client.get(reverse("admin:customers_customer_changelist"), {"segment": value}).status_code == 200
        )


def test_the_segment_list_offers_only_the_pages_the_staff_member_may_open(shop):
    from django.contrib.auth.models import Permission

    from fenxiao.testing import login, make_staff

    segment = Segment.objects.create(name="全部", criteria={})
    staff = make_staff()
    staff.user_permissions.add(Permission.objects.get(codename="view_segment"))
    listing = login(staff).get(reverse("admin:customers_segment_changelist")).content.decode()
    assert "全部" in listing
    assert f"?segment={segment.pk}" not in listing  # neither the customer list nor a push


def test_deleting_a_segment_a_push_uses_names_the_push_not_a_permission(shop):
    """The segment stays (the push keeps its audience); the page says which push uses it,
    where it said the account lacked permission to delete 定向推送."""
    from fenxiao.promotions.tests.push_helpers import make_push
    from fenxiao.testing import login, make_staff

    segment = Segment.objects.create(name="老客", criteria={"tags_any": [shop["vip"].pk]})
    make_push(segment, title="新品上架")
    staff = make_staff("boss", superuser=True)
    for client in (login(staff), operations()):
        page = client.get(reverse("admin:customers_segment_delete", args=[segment.pk])).content.decode()
        assert "受保护" in page and "新品上架" in page and "无权删除" not in page
        listing = reverse("admin:customers_segment_changelist")
        page = client.post(listing, {"action": "delete_selected", "_selected_action": [segment.pk]})
        assert "新品上架" in page.content.decode() and "没有权限删除" not in page.content.decode()
    assert Segment.objects.filter(pk=segment.pk).exists()
