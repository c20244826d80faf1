"""The 客户分群 form's 指定分销商 is picked by name or phone from a search, not typed as a
referral code: saving by picking, editing to another, the search's answers (masked phones,
only for staff who may edit segments), and segments saved before still opening."""

import json

import pytest
from django.urls import reverse

from fenxiao.customers.models import Segment, Tag
from fenxiao.customers.services import segments
from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor
from fenxiao.testing import login, make_buyer, make_staff

from .crm import finance, operations


@pytest.fixture
def shop(db):
    d1 = make_distributor(user=make_buyer(phone="13800001111", nickname="华东小王"))
    d2 = make_distributor(user=make_buyer(phone="13900002222", nickname="北方老李"))
    d2.real_name = "李建国"
    d2.save(update_fields=["real_name"])
    a, b = bound_buyer(d1), bound_buyer(d2)
    return {"d1": d1, "d2": d2, "a": a, "b": b}


def lookup(client, term=""):
    return client.get(reverse("admin:customers_segment_distributors"), {"term": term})


def test_create_and_edit_by_picking_a_distributor(shop):
    client = operations()
    add = reverse("admin:customers_segment_add")
    # Picking a distributor is enough: the 绑定 choice follows.
    saved = client.post(add, {"name": "小王的客户", "distributor": shop["d1"].pk})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    segment = Segment.objects.get(name="小王的客户")
    assert segment.criteria == {"bound": "one", "distributor_id": shop["d1"].pk}
    assert set(segments.members(segment)) == {shop["a"].pk}

    change = reverse("admin:customers_segment_change", args=[segment.pk])
    page = client.get(change).content.decode()
    assert "华东小王（13800001111） · " + shop["d1"].referral_code in page
    edited = client.post(change, {"name": "小王的客户", "bound": "one", "distributor": shop["d2"].pk})
    assert edited.status_code == 302
    segment.refresh_from_db()
    assert segment.criteria == {"bound": "one", "distributor_id": shop["d2"].pk}
    assert set(segments.members(segment)) == {shop["b"].pk}

    live = client.get(reverse("admin:customers_segment_live_count"), {"distributor": shop["d1"].pk})
    assert "data-live-count>1<" in live.content.decode()
    refused = client.post(add, {"name": "矛盾", "bound": "none", "distributor": shop["d1"].pk})
    assert "不能再指定分销商" in refused.content.decode()


def test_a_segment_saved_before_still_opens_with_its_distributor(shop):
    old = Segment.objects.create(name="老分群", criteria={"bound": "one", "distributor_id": shop["d2"].pk})
    client = operations()
    page = client.get(reverse("admin:customers_segment_change", args=[old.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="{shop["d2"].pk}" selected>' in text
    assert "李建国 · 北方老李（13900002222） · " + shop["d2"].referral_code in text
    # Only the chosen one is drawn: the search brings the others, however many there are.
    assert "华东小王" not in text
    # Saving it unchanged keeps the same members.
    saved = client.post(
        reverse("admin:customers_segment_change", args=[old.pk]),
        {"name": "老分群", "bound": "one", "distributor": shop["d2"].pk},
    )
    assert saved.status_code == 302
    old.refresh_from_db()
    assert old.criteria == {"bound": "one", "distributor_id": shop["d2"].pk}


def test_search_by_name_phone_or_code(shop, django_assert_max_num_queries):
    client = operations()
    for term, expected in (
        ("小王", {shop["d1"].pk}),
        ("李建国", {shop["d2"].pk}),
        ("0000222", {shop["d2"].pk}),
        (shop["d1"].referral_code.lower(), {shop["d1"].pk}),
        ("没有这个人", set()),
    ):
        reply = lookup(client, term)
        assert reply.status_code == 200
        assert {int(r["id"]) for r in reply.json()["results"]} == expected, term
    for _ in range(30):
        make_distributor()
    with django_assert_max_num_queries(8):
        page = lookup(client).json()
    assert len(page["results"]) == 20 and page["pagination"]["more"] is True


def test_phones_masked_for_staff_who_may_not_see_them(shop):
    editor = login(make_staff("seg", perms=["customers.change_segment", "customers.view_segment"]))
    texts = [r["text"] for r in lookup(editor, "小王").json()["results"]]
    assert texts == [f"华东小王（138****1111） · {shop['d1'].referral_code}"]
    segment = Segment.objects.create(name="x", criteria={"bound": "one", "distributor_id": shop["d1"].pk})
    page = editor.get(reverse("admin:customers_segment_change", args=[segment.pk])).content.decode()
    assert "138****1111" in page and "13800001111" not in page
    full = [r["text"] for r in lookup(operations(), "小王").json()["results"]]
    assert full == [f"华东小王（13800001111） · {shop['d1'].referral_code}"]


def test_only_staff_who_may_edit_segments_get_answers(shop, client):
    assert lookup(finance()).status_code == 403
    viewer = login(make_staff("view", perms=["customers.view_segment"]))
    assert lookup(viewer).status_code == 403
    anonymous = lookup(client)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    buyer = login(shop["a"])
    assert lookup(buyer).status_code == 302
    assert json.loads(lookup(operations()).content)["results"]


def test_the_picker_in_english(shop):
    from fenxiao.distribution.models import DistributorStatus
    from fenxiao.distribution.services import distributors
    from fenxiao.testing import chinese_left, english_backend_page, in_english

    wang = make_distributor(user=make_buyer(phone="13700003333", nickname="Wang"))
    distributors.set_status(wang, None, DistributorStatus.BANNED, reason="test", decision="void")
    old = Segment.objects.create(name="Wang", criteria={"bound": "one", "distributor_id": wang.pk})
    boss = in_english(login(make_staff("boss", superuser=True)))
    tag_names = [tag.name for tag in Tag.objects.all()]  # the merchant's data
    url = reverse("admin:customers_segment_change", args=[old.pk])
    body = english_backend_page(boss, url, *tag_names)
    assert f"Wang (13700003333) · {wang.referral_code} (Banned)" in body
    assert "Any (type a name or phone to search)" in body
    answer = lookup(boss, "Wang").json()["results"]
    assert [r["text"] for r in answer] == [f"Wang (13700003333) · {wang.referral_code} (Banned)"]
    refused = boss.get(reverse("admin:customers_segment_live_count"), {"bound": "one"}).content.decode()
    assert chinese_left(refused) == [] and "Please choose a distributor" in refused
