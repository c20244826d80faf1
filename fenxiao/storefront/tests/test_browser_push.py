"""A targeted push end to end in real browsers: 运营 at 1280 px starts a push to a segment and
watches its progress bar move without reloading while the job delivers; a buyer in the
segment at 375 px sees the unread badge, opens the message and follows it to the product;
the push's report then counts the read and the click."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.promotions.models import Push, PushStatus
from fenxiao.promotions.services import push as service
from fenxiao.promotions.services.push_report import report
from fenxiao.promotions.tests.push_helpers import make_push, make_segment
from fenxiao.testing import make_product, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h5shots")


def test_staff_watch_a_push_go_out_and_a_buyer_opens_it(phones, monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 2)
    # The job is held back: the test delivers chunk by chunk while the page is open.
    monkeypatch.setattr(service, "_enqueue", lambda push_id: None)
    ensure_staff_groups()
    staff = make_staff("ops")
    staff.groups.add(Group.objects.get(name=OPERATIONS))
    segment, members = make_segment(5)
    buyer = members[0]
    scarf = make_product("羊绒围巾", price=19900)
    push = make_push(segment, product=scarf, title="围巾到货")

    merchant = phones("push-merchant", desktop=True)
    page = merchant.page
    page.goto("/backend/login/")
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill("Staff#2026")
    page.get_by_role("button", name="登录").click()
    page.goto(f"/backend/promotions/push/{push.pk}/change/")
    assert "当前 5 位客户" in page.locator("#push-audience-preview").inner_text()
    page.get_by_role("link", name="开始发送").click()
    page.get_by_role("button", name="开始发送").click()
    progress = page.locator("#push-progress [data-progress]")
    assert progress.inner_text() == "已处理 0 / 5 人（0%）"

    service.deliver(push.pk, max_chunks=1)
    page.wait_for_function(
        "() => document.querySelector('#push-progress [data-progress]').textContent.includes('2 / 5')",
        timeout=6000,
    )
    service.deliver(push.pk)
    page.wait_for_function(
        "() => document.querySelector('#push-progress').dataset.status === 'done'", timeout=6000
    )
    # The poll that sees the end reloads the page: the report and the actions catch up.
    page.wait_for_function(
        "() => document.querySelectorAll('#push-report [data-figure]')[1]?.textContent.trim() === '5'",
        timeout=6000,
    )
    assert progress.inner_text() == "已处理 5 / 5 人（100%）"
    assert page.get_by_role("link", name="取消推送").count() == 0
    figures = page.locator("#push-report [data-figure]").all_inner_texts()
    assert figures[:2] == ["5", "5"]
    assert Push.objects.get(pk=push.pk).status == PushStatus.DONE
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "push-backend-done.png"), full_page=True)

    phone = phones("push-buyer")
    page = phone.page
    page.goto("/login/?next=/me/")
    page.get_by_label("手机号").fill(buyer.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/me/")
    assert page.get_by_test_id("tab-unread").inner_text() == "1"
    page.get_by_test_id("me-messages").click()
    page.get_by_test_id("message").filter(has_text="围巾到货").click()
    page.get_by_test_id("message-link").click()
    page.wait_for_url(f"**/products/{scarf.pk}/")
    assert "羊绒围巾" in page.content()
    page.screenshot(path=str(SHOTS / "push-buyer-product.png"), full_page=True)

    figures = report(Push.objects.get(pk=push.pk))
    assert (figures.delivered, figures.read, figures.clicked) == (5, 1, 1)
