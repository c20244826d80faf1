"""Automatic tags at and just past their thresholds; the daily recompute; the update after
a paid order; manual tags in bulk from the customer list."""

from datetime import timedelta

from django.contrib.admin import helpers
from django.urls import reverse

from fenxiao.customers.models import Customer, CustomerTag, Tag, TagRule
from fenxiao.customers.services import tags as service
from fenxiao.customers.tasks import recompute_customer_tags
from fenxiao.testing import make_buyer

from .crm import figures, full_refund, operations, paid, rule_tag, tag_names

SECOND = timedelta(seconds=1)


def holds(tag, buyer, now) -> bool:
    return service.qualifying(tag, now).filter(pk=buyer.pk).exists()


def test_new_customer_until_n_days_after_the_first_paid_order(db):
    tag = rule_tag(TagRule.NEW, days=30)
    never = make_buyer()
    buyer, _ = paid()
    first = figures(buyer).first_paid_at
    assert holds(tag, never, first + timedelta(days=400))
    assert holds(tag, buyer, first + timedelta(days=30))
    assert not holds(tag, buyer, first + timedelta(days=30) + SECOND)


def test_returning_customer_from_n_paid_orders(db):
    tag = rule_tag(TagRule.RETURNING, min_orders=3)
    buyer, order = paid(count=2)
    assert not holds(tag, buyer, order.paid_at)
    paid(buyer)
    assert holds(tag, buyer, order.paid_at)
    assert "回头客" in tag_names(buyer)  # applied right after the paid order


def test_high_spend_at_the_amount_and_within_the_days(db):
    tag = rule_tag(TagRule.HIGH_SPEND, min_spend=20000, days=30)
    buyer, first = paid(price=9999)
    assert not holds(tag, buyer, first.paid_at)
    _, second = paid(buyer, price=10001)  # 200.00 in all: exactly the threshold
    assert holds(tag, buyer, second.paid_at)
    assert holds(tag, buyer, first.paid_at + timedelta(days=30))
    # The first order leaves the window: 100.01 within 30 days is below the threshold.
    assert not holds(tag, buyer, first.paid_at + timedelta(days=30) + SECOND)
    full_refund(second)
    assert not holds(tag, buyer, second.paid_at)
    assert "高消费" not in tag_names(buyer)  # the refund took it away


def test_dormant_after_n_days_without_a_paid_order(db):
    tag = rule_tag(TagRule.DORMANT, days=60)
    never = make_buyer()
    buyer, order = paid()
    assert holds(tag, buyer, order.paid_at + timedelta(days=60))
    assert not holds(tag, buyer, order.paid_at + timedelta(days=60) - SECOND)
    assert not holds(tag, never, order.paid_at + timedelta(days=600))


def test_daily_recompute_applies_edited_thresholds_and_leaves_manual_tags(db):
    rule_tag(TagRule.DORMANT, days=60)
    vip = Tag.objects.create(name="VIP")
    buyer, order = paid()
    service.add_manual(vip, [buyer.pk])
    assert "沉睡" not in tag_names(buyer) and "新客" in tag_names(buyer)
    service.recompute_all(chunk=1, now=order.paid_at + timedelta(days=61))
    assert tag_names(buyer) == {"沉睡", "VIP"}  # 新客 ended after 30 days
    rule_tag(TagRule.DORMANT, days=90)  # takes effect at the next recompute
    assert "沉睡" in tag_names(buyer)
    recompute_customer_tags.call_local()  # the nightly job, now: neither dormant nor 30 days old
    assert tag_names(buyer) == {"新客", "VIP"}


def test_recompute_is_a_fixed_number_of_statements_per_chunk(db, django_assert_max_num_queries):
    service.ensure_rule_tags()
    for _ in range(3):
        make_buyer()
    with django_assert_max_num_queries(2 + 4 * 2 + 3):
        service.recompute_all(chunk=1000)
    for _ in range(12):
        make_buyer()
    with django_assert_max_num_queries(2 + 4 * 2 + 3):
        service.recompute_all(chunk=1000)
    assert CustomerTag.objects.filter(tag__rule=TagRule.NEW).count() == 15


def test_bulk_manual_tag_from_the_customer_list(db):
    client = operations()
    vip = Tag.objects.create(name="VIP")
    buyers = [make_buyer() for _ in range(3)]
    url = reverse("admin:customers_customer_changelist")
    selected = {"action": "add_tag", helpers.ACTION_CHECKBOX_NAME: [b.pk for b in buyers[:2]]}
    page = client.post(url, selected)
    assert page.status_code == 200 and "为所选客户添加标签" in page.content.decode()
    done = client.post(url, {**selected, "tag": vip.pk, "_confirm": "1", "select_across": "0"})
    assert done.status_code == 302
    assert set(CustomerTag.objects.filter(tag=vip).values_list("user_id", flat=True)) == {
        b.pk for b in buyers[:2]
    }
    client.post(
        url,
        {
            "action": "remove_tag",
            helpers.ACTION_CHECKBOX_NAME: [buyers[0].pk],
            "tag": vip.pk,
            "_confirm": "1",
        },
    )
    assert list(CustomerTag.objects.filter(tag=vip).values_list("user_id", flat=True)) == [buyers[1].pk]
    # An automatic tag cannot be picked: a form error in Chinese, nothing applied.
    auto = rule_tag(TagRule.RETURNING)
    refused = client.post(url, {**selected, "tag": auto.pk, "_confirm": "1"})
    assert refused.status_code == 200 and "请选择手动标签" in refused.content.decode()
    assert not CustomerTag.objects.filter(tag=auto).exists()
    assert Customer.objects.count() == 3


def test_threshold_form_refuses_bad_input_in_chinese(db):
    client = operations()
    tag = rule_tag(TagRule.HIGH_SPEND)
    url = reverse("admin:customers_tag_change", args=[tag.pk])
    reply = client.post(url, {"name": tag.name, "min_spend": "abc", "days": "-3", "description": ""})
    assert reply.status_code == 200
    text = reply.content.decode()
    assert "天数应在 1 到 3650 之间" in text or "确保该值大于或等于" in text
    reply = client.post(url, {"name": tag.name, "min_spend": "", "days": "30", "description": ""})
    assert "高消费规则需要填写消费金额" in reply.content.decode()
    ok = client.post(url, {"name": tag.name, "min_spend": "500.00", "days": "30", "description": ""})
    assert ok.status_code == 302
    tag.refresh_from_db()
    assert tag.min_spend == 50000


def test_recompute_now_from_the_backend(db):
    client = operations()
    buyer = make_buyer()
    url = reverse("admin:customers_tag_changelist") + "recompute/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"confirm": "on"}).status_code in (200, 302)
    assert "新客" in tag_names(buyer)


def test_a_tags_count_opens_the_customers_who_carry_it(db):
    """客户标签's 客户数 opens 客户 filtered by the tag (to read, export or push to them);
    it was a bare number. Staff who may not open 客户 keep the number alone."""
    from django.contrib.auth.models import Permission

    from fenxiao.testing import login, make_staff

    vip, empty = Tag.objects.create(name="VIP"), Tag.objects.create(name="空标签")
    buyers = [make_buyer() for _ in range(3)]
    service.add_manual(vip, [b.pk for b in buyers[:2]])
    listing = operations().get(reverse("admin:customers_tag_changelist")).content.decode()
    customers = reverse("admin:customers_customer_changelist")
    assert f'href="{customers}?tag={vip.pk}"' in listing
    assert f"?tag={empty.pk}" not in listing  # nobody to see
    page = operations().get(customers, {"tag": vip.pk})
    assert {c.pk for c in page.context["cl"].result_list} == {b.pk for b in buyers[:2]}
    staff = make_staff()
    staff.user_permissions.add(Permission.objects.get(codename="view_tag"))
    listing = login(staff).get(reverse("admin:customers_tag_changelist")).content.decode()
    assert "VIP" in listing and f"?tag={vip.pk}" not in listing
