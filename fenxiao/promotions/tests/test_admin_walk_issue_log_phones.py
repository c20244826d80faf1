"""发券记录 names a hand-out's buyers as the backend names buyers everywhere: phones masked
(138****1234) unless the staff member may see phones. Before, the log printed the pasted
phones whole (手动发放：3 个手机号（13800001234、…）) to every staff member who could open
it. Its 实际发放 count opens the copies that hand-out put in buyers' wallets."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from fenxiao.testing import login, make_buyer, make_staff

from .factories import make_coupon

pytestmark = pytest.mark.django_db


def staff(*, phones: bool):
    user = make_staff("marketing")
    perms = Permission.objects.filter(content_type__app_label="promotions")
    if phones:
        perms = perms | Permission.objects.filter(codename="view_customer_phone")
    user.user_permissions.set(perms)
    return login(user)


def hand_out(client, coupon):
    reply = client.post(
        reverse("admin:promotions_coupon_issue_to_buyers", args=[coupon.pk]),
        {"phones": "13800001234\n13900005678", "note": "老客回访"},
    )
    assert reply.status_code == 302


def test_the_log_masks_the_phones_a_hand_out_was_pasted_with():
    coupon = make_coupon(amount=1000, min_spend=9900, total_quantity=10)
    make_buyer("13800001234")
    marketing = staff(phones=False)
    hand_out(marketing, coupon)

    log = reverse("admin:promotions_couponissue_changelist")
    text = marketing.get(log).content.decode()
    assert "138****1234" in text and "139****5678" in text
    assert "13800001234" not in text and "13900005678" not in text
    issue_id = coupon.issues.get().pk
    detail = marketing.get(reverse("admin:promotions_couponissue_change", args=[issue_id])).content.decode()
    assert "138****1234" in detail and "13800001234" not in detail

    # Staff who may see phones read them whole.
    assert "13800001234" in staff(phones=True).get(log).content.decode()


def test_issued_count_opens_the_copies_of_that_hand_out():
    coupon = make_coupon(amount=1000, min_spend=9900, total_quantity=10)
    make_buyer("13800001234", nickname="小橘")
    make_buyer("13900005678", nickname="阿明")
    client = staff(phones=False)
    hand_out(client, coupon)
    issue = coupon.issues.get()
    assert issue.issued == 2

    copies = reverse("admin:promotions_buyercoupon_changelist") + f"?issue__exact={issue.pk}"
    listing = client.get(reverse("admin:promotions_couponissue_changelist")).content.decode()
    assert copies in listing
    reply = client.get(copies)
    assert reply.status_code == 200
    text = reply.content.decode()
    assert "小橘（138****1234）" in text and "阿明（139****5678）" in text
    assert "商家发放" in text
