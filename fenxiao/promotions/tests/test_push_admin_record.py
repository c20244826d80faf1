"""A started 定向推送 opens as a read-only record: the form's help texts ("最多 300 字",
"只能推送已上架的商品", the coupon note) speak to someone typing, so the record shows none of
them; the add form and a draft's edit form keep them."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from fenxiao.customers.tests.crm import operations
from fenxiao.promotions.admin.push import COUPON_NOTE
from fenxiao.promotions.models import Push, PushStatus
from fenxiao.testing import login, make_staff

from .push_helpers import make_push, make_segment

pytestmark = pytest.mark.django_db

HELP_TEXTS = ("最多 300 字", "只能推送已上架的商品", str(COUPON_NOTE))


def page(client, push=None) -> str:
    if push is None:
        return _get(client, reverse("admin:promotions_push_add"))
    return _get(client, reverse("admin:promotions_push_change", args=[push.pk]))


def _get(client, url) -> str:
    reply = client.get(url)
    assert reply.status_code == 200
    return reply.content.decode()


def test_the_add_and_draft_forms_keep_their_help_texts():
    client = operations()
    segment, _ = make_segment(2)
    draft = make_push(segment)
    for html in (page(client), page(client, draft)):
        for text in HELP_TEXTS:
            assert text in html, text


@pytest.mark.parametrize("status", [PushStatus.SENDING, PushStatus.DONE, PushStatus.CANCELLED])
def test_a_started_push_reads_as_a_record_without_help_texts(status):
    client = operations()
    segment, _ = make_segment(2)
    push = make_push(segment, title="双十二预告")
    Push.objects.filter(pk=push.pk).update(status=status)
    html = page(client, push)
    assert "双十二预告" in html and "限时优惠，点击查看" in html  # the content is still there
    for text in HELP_TEXTS:
        assert text not in html, text


def test_a_draft_is_a_record_too_for_someone_who_may_only_view_it():
    segment, _ = make_segment(2)
    push = make_push(segment, title="双十二预告")
    viewer = make_staff("只读运营")
    viewer.user_permissions.add(Permission.objects.get(codename="view_push"))
    html = page(login(viewer), push)
    assert "双十二预告" in html
    for text in HELP_TEXTS:
        assert text not in html, text
