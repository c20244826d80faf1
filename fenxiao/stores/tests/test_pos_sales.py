"""The POS sync API's offline sales and member enrolment, as a store's till sends them:
what a sale counts for, once; who the till may enrol."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from fenxiao.customers.models import CustomerFigures, CustomerTag, Tag, TagRule
from fenxiao.customers.services import figures, tags
from fenxiao.stores.models import MemberSource, OfflineSale, StoreMember
from fenxiao.testing import (
    assert_refused,
    last_sms_code,
    make_address,
    make_buyer,
    make_product,
    make_staff,
)

from .pos_till import Till, make_store, sale


def test_an_offline_sale_counts_for_the_members_figures_and_tags(till, store):
    tags.ensure_rule_tags()
    Tag.objects.filter(rule=TagRule.RETURNING).update(min_orders=2)
    buyer = make_buyer()
    product = make_product()
    lines = [
        {"sku_code": product.skus.get().code, "quantity": 1, "amount": 9900},
        {"sku_code": "TILL-ONLY-1", "quantity": 1, "amount": 2900},
    ]
    reply = till.call("POST", "/sales", sale("S-1", buyer.phone, 12800, lines))
    assert reply.status_code == 200, reply.content
    assert reply.json()["member_matched"] is True
    assert reply.json()["commission"] == {"status": "disabled", "amount": 0}
    row = CustomerFigures.objects.get(user=buyer)
    assert (row.paid_orders, row.total_spend) == (1, 12800)
    assert StoreMember.objects.get(store=store, buyer=buyer).source == MemberSource.POS
    sale_row = OfflineSale.objects.get(sale_no="S-1")
    assert sorted((line.sku_code, line.sku_id) for line in sale_row.lines.all()) == sorted(
        [(product.skus.get().code, product.skus.get().pk), ("TILL-ONLY-1", None)]
    )
    till.call("POST", "/sales", sale("S-2", buyer.phone, 5000))
    row.refresh_from_db()
    assert (row.paid_orders, row.total_spend) == (2, 17800)
    # 回头客 from two till sales (the retag runs after the commit)
    returning = Tag.objects.get(rule=TagRule.RETURNING)
    assert CustomerTag.objects.filter(user=buyer, tag=returning).exists()
    # the nightly rebuild from the orders keeps the till sales
    figures.rebuild()
    row.refresh_from_db()
    assert (row.paid_orders, row.total_spend) == (2, 17800)


def test_the_same_sale_twice_is_recorded_and_counted_once(till, store):
    buyer = make_buyer()
    first = till.call("POST", "/sales", sale("S-9", buyer.phone, 3000))
    again = till.call("POST", "/sales", sale("S-9", buyer.phone, 3000), idempotency="another-key")
    assert first.status_code == 200
    assert_refused(again, 409, "POS_SALE_DUPLICATE")
    assert OfflineSale.objects.filter(sale_no="S-9").count() == 1
    assert CustomerFigures.objects.get(user=buyer).total_spend == 3000


def test_a_retried_sale_with_the_same_body_gets_the_same_answer(till):
    buyer = make_buyer()
    body = sale("S-10", buyer.phone, 3000)
    first = till.call("POST", "/sales", body)
    again = till.call("POST", "/sales", body)
    assert again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert CustomerFigures.objects.get(user=buyer).paid_orders == 1
    changed = till.call(
        "POST", "/sales", body | {"total": 3100, "lines": [{"sku_code": "X", "quantity": 1, "amount": 3100}]}
    )
    assert_refused(changed, 409, "IDEMPOTENCY_KEY_REUSED")


def test_a_sale_whose_lines_do_not_add_up_is_refused(till):
    reply = till.call(
        "POST", "/sales", sale("S-11", None, 5000, [{"sku_code": "A", "quantity": 1, "amount": 4000}])
    )
    assert_refused(reply, 400, "POS_TOTAL_MISMATCH")
    assert not OfflineSale.objects.exists()


def test_a_sale_without_a_known_member_is_recorded_without_figures(till):
    reply = till.call("POST", "/sales", sale("S-12", "13700000000", 1000))
    assert reply.status_code == 200 and reply.json()["member_matched"] is False
    assert OfflineSale.objects.get(sale_no="S-12").buyer_id is None
    assert not CustomerFigures.objects.exists()


def test_till_sales_in_the_window_count_for_high_spend(till):
    from fenxiao.orders.services import checkout
    from fenxiao.testing import pay_in_sandbox

    tags.ensure_rule_tags()
    Tag.objects.filter(rule=TagRule.HIGH_SPEND).update(min_spend=100_000, days=90)
    high = Tag.objects.get(rule=TagRule.HIGH_SPEND)
    offline_only, mixed, old = make_buyer(), make_buyer(), make_buyer()
    till.call("POST", "/sales", sale("H-1", offline_only.phone, 60_000))
    till.call("POST", "/sales", sale("H-2", offline_only.phone, 40_000))
    long_ago = sale("H-3", old.phone, 200_000) | {
        "sold_at": (timezone.now() - timedelta(days=120)).isoformat()
    }
    till.call("POST", "/sales", long_ago)
    sku = make_product(price=50_000).skus.get()
    pay_in_sandbox(checkout.place_order(mixed, [(sku.pk, 1)], address_id=make_address(mixed).pk))
    till.call("POST", "/sales", sale("H-4", mixed.phone, 50_000))
    tags.recompute_all()
    holders = set(CustomerTag.objects.filter(tag=high).values_list("user_id", flat=True))
    assert offline_only.pk in holders and mixed.pk in holders and old.pk not in holders
    # the per-buyer recompute after a sale agrees
    CustomerTag.objects.filter(tag=high).delete()
    tags.recompute_for_buyer(mixed.pk)
    assert CustomerTag.objects.filter(tag=high, user=mixed).exists()


def test_the_till_enrols_a_new_phone_as_a_member_who_sets_a_password_by_sms(till, store):
    reply = till.call(
        "POST", "/members", {"phone": "13900000301", "nickname": "王阿姨"}, idempotency="enrol-1"
    )
    assert reply.status_code == 200, reply.content
    answer = reply.json()
    assert answer["account_created"] and answer["joined"] and answer["member_of_this_store"]
    member = StoreMember.objects.get(buyer_id=answer["user_id"])
    assert (member.store, member.source, member.buyer.nickname) == (store, MemberSource.POS, "王阿姨")
    assert not member.buyer.has_usable_password()
    # Registered at the store, as the customer list and segments read it.
    assert CustomerFigures.objects.get(user=member.buyer).source == "store"
    figures.add_new_buyers(now=timezone.now() + timedelta(days=30))
    assert CustomerFigures.objects.get(user=member.buyer).source == "store"
    # The same call again (the till retried): the first answer, nothing written twice.
    again = till.call(
        "POST", "/members", {"phone": "13900000301", "nickname": "王阿姨"}, idempotency="enrol-1"
    )
    assert again.json() == answer and again["Idempotent-Replayed"] == "true"
    # Without a key, enrolling again answers as things stand: a member already.
    plain = till.call("POST", "/members", {"phone": "13900000301"}).json()
    assert not plain["account_created"] and not plain["joined"] and plain["member_of_this_store"]
    assert StoreMember.objects.count() == 1
    # The member signs in after setting a password with a code texted to the phone.
    api = Client()
    asked = api.post(
        "/api/v1/auth/sms-code",
        {"phone": "13900000301", "purpose": "reset_password"},
        content_type="application/json",
    )
    assert asked.status_code == 202, asked.content
    reset = api.post(
        "/api/v1/auth/password-reset",
        {"phone": "13900000301", "code": last_sms_code("13900000301"), "password": "Member#2026"},
        content_type="application/json",
    )
    assert reset.status_code == 200, reset.content
    login_reply = api.post(
        "/api/v1/auth/login",
        {"phone": "13900000301", "password": "Member#2026"},
        content_type="application/json",
    )
    assert login_reply.status_code == 200


def test_the_till_enrols_a_known_buyer_without_touching_their_account(till, store):
    buyer = make_buyer("13900000302", nickname="老客")
    answer = till.call("POST", "/members", {"phone": "13900000302", "nickname": "别的名字"}).json()
    assert answer["user_id"] == buyer.pk and not answer["account_created"] and answer["joined"]
    buyer.refresh_from_db()
    assert buyer.nickname == "老客" and buyer.has_usable_password()
    # Already a member of another store under "first store": stays theirs.
    other = Till(make_store("滨江店"))
    later = other.call("POST", "/members", {"phone": "13900000302"}).json()
    assert not later["joined"] and not later["member_of_this_store"]
    assert StoreMember.objects.get(buyer=buyer, is_current=True).store == store


def test_the_till_cannot_enrol_a_staff_phone_or_a_bad_number(till):
    clerk = make_staff("clerk")
    clerk.phone = "13900000303"
    clerk.save(update_fields=["phone"])
    assert_refused(till.call("POST", "/members", {"phone": "13900000303"}), 409, "POS_PHONE_STAFF")
    assert_refused(till.call("POST", "/members", {"phone": "23900000303"}), 400, "POS_PHONE_INVALID")
    assert_refused(till.call("POST", "/members", {"phone": "12900000303"}), 400, "POS_PHONE_INVALID")
    # Another script's digits are no phone; full-width ones (a till on a Chinese keyboard) are.
    assert_refused(till.call("POST", "/members", {"phone": "1٣900000304"}), 400, "POS_PHONE_INVALID")
    # A staff account named by the number (its phone elsewhere) is staff all the same.
    named = make_staff("named")
    named.username = "13900000305"
    named.save(update_fields=["username"])
    assert_refused(till.call("POST", "/members", {"phone": "13900000305"}), 409, "POS_PHONE_STAFF")
    # A buyer whose user name is the number but whose phone changed: staff sort it out.
    moved = make_buyer("13900000306")
    moved.phone = "13900000307"
    moved.save(update_fields=["phone"])
    assert_refused(till.call("POST", "/members", {"phone": "13900000306"}), 409, "POS_PHONE_CONFLICT")
    assert till.call("POST", "/members", {"phone": "1390000030"}).status_code == 422
    assert not StoreMember.objects.exists()


def test_a_sales_member_phone_is_read_as_registration_writes_it(till):
    buyer = make_buyer("13900000311")
    reply = till.call("POST", "/sales", sale("S-P1", "+86 139-0000-0311"))
    assert reply.status_code == 200, reply.content
    assert reply.json()["member_matched"] is True
    assert OfflineSale.objects.get(sale_no="S-P1").buyer_phone == buyer.phone
    full_width = till.call("POST", "/sales", sale("S-P3", "１３９００００03１１"))
    assert full_width.status_code == 200 and full_width.json()["member_matched"] is True
    for bad in ("1٣900000311", "12900000311", "23900000311"):
        assert_refused(till.call("POST", "/sales", sale("S-P2", bad)), 400, "POS_PHONE_INVALID")
    assert not OfflineSale.objects.filter(sale_no="S-P2").exists()
