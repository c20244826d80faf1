"""开发者 → Webhooks in the backend: registering an endpoint with events as checkboxes, the
secret with a copy button and the signing help, rotating it, 测试推送, the delivery list
with its filters and each delivery's attempts, 重新投递; 运营 may, others may not."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from fenxiao.customers.services.staff import ensure_staff_groups
from fenxiao.testing import make_staff
from fenxiao.webhooks.models import Delivery, DeliveryAttempt, Endpoint
from fenxiao.webhooks.services import events

from .helpers import make_endpoint

pytestmark = pytest.mark.django_db


def _ops(client):
    ensure_staff_groups()
    user = make_staff("ops")
    user.groups.add(Group.objects.get(name="运营"))
    client.force_login(user)
    return user


def _emit(n=1):
    with transaction.atomic():
        events.emit_many(
            "order.paid",
            (
                (f"order-paid:{i}", {"order_id": i, "paid_at": timezone.now().isoformat()})
                for i in range(1, n + 1)
            ),
        )


def test_operations_register_an_endpoint_with_events_as_checkboxes(client, receiver):
    ops = _ops(client)
    page = client.get("/backend/webhooks/endpoint/add/").content.decode()
    assert 'type="checkbox"' in page and "订单已付款" in page and "分销商审核通过" in page
    reply = client.post(
        "/backend/webhooks/endpoint/add/",
        {
            "url": receiver.url,
            "description": "ERP",
            "events": ["order.paid", "order.shipped"],
            "is_active": "on",
        },
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["order.paid", "order.shipped"] and endpoint.created_by == ops
    assert endpoint.secret.startswith("whsec_")
    page = client.get(f"/backend/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret in page and "复制" in page and "navigator.clipboard" in page
    assert "X-Fenxiao-Signature" in page and "hmac.new" in page
    # No event chosen: refused with a message, nothing saved.
    reply = client.post("/backend/webhooks/endpoint/add/", {"url": receiver.url, "is_active": "on"})
    assert reply.status_code == 200 and "这个字段是必填项" in reply.content.decode()
    assert Endpoint.objects.count() == 1


def test_a_private_address_is_refused_on_the_form_in_production(client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    _ops(client)
    reply = client.post(
        "/backend/webhooks/endpoint/add/",
        {"url": "http://192.168.1.10/hook", "events": ["order.paid"], "is_active": "on"},
    )
    assert reply.status_code == 200
    assert "推送地址指向内网或保留地址，已拒绝" in reply.content.decode()
    assert not Endpoint.objects.exists()


def test_rotate_secret_and_test_push(client, receiver):
    _ops(client)
    endpoint = make_endpoint(receiver.url, ["order.paid"])
    old = endpoint.secret
    url = f"/backend/webhooks/endpoint/{endpoint.pk}/rotate-secret/"
    assert client.get(url).status_code == 200  # the confirmation page changes nothing
    assert Endpoint.objects.get().secret == old
    client.post(url, {"confirm": "1"}, follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")

    reply = client.post(f"/backend/webhooks/endpoint/{endpoint.pk}/ping/", {"confirm": "1"}, follow=True)
    assert "测试推送已送达" in reply.content.decode()
    (request,) = receiver.requests
    assert request["headers"]["X-Fenxiao-Event"] == "ping"


def test_the_delivery_list_filters_and_shows_each_attempt_then_redelivers(
    client, receiver, django_assert_max_num_queries
):
    _ops(client)
    receiver.replies = [500]
    endpoint = make_endpoint(receiver.url, ["order.paid"])
    _emit(3)
    failed = Delivery.objects.get(last_response_code=500)
    with django_assert_max_num_queries(15):
        page = client.get("/backend/webhooks/delivery/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("已送达") >= 2 and "待投递" in text and "订单已付款" in text
    filtered = client.get(
        f"/backend/webhooks/delivery/?status__exact=pending&event__type__exact=order.paid&endpoint__id__exact={endpoint.pk}"
    ).content.decode()
    assert f"/backend/webhooks/delivery/{failed.pk}/change/" in filtered
    assert filtered.count("/backend/webhooks/delivery/") < text.count("/backend/webhooks/delivery/")
    # Twice as many rows: the list still costs the same number of queries.
    _emit(6)
    with django_assert_max_num_queries(15):
        assert client.get("/backend/webhooks/delivery/").status_code == 200

    detail = client.get(f"/backend/webhooks/delivery/{failed.pk}/change/").content.decode()
    assert "投递日志" in detail and "500" in detail and "HTTP 500" in detail
    reply = client.post(f"/backend/webhooks/delivery/{failed.pk}/redeliver/", {"confirm": "1"}, follow=True)
    assert "已重新投递 1 条" in reply.content.decode()
    failed.refresh_from_db()
    assert failed.status == "succeeded"
    assert list(
        DeliveryAttempt.objects.filter(delivery=failed).order_by("pk").values_list("response_code", flat=True)
    ) == [
        500,
        200,
    ]
    # A delivered one again, from the list: a new attempt all the same.
    sent = len(receiver.requests)
    reply = client.post(
        "/backend/webhooks/delivery/",
        {"action": "redeliver_selected", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert "已重新投递 1 条" in reply.content.decode()
    assert len(receiver.requests) == sent + 1


def test_staff_without_the_permission_see_no_webhooks(client):
    ensure_staff_groups()
    finance = make_staff("fin")
    finance.groups.add(Group.objects.get(name="财务"))
    client.force_login(finance)
    make_endpoint("http://127.0.0.1:1/x", ["order.paid"])
    assert client.get("/backend/webhooks/endpoint/").status_code == 403
    assert client.get("/backend/webhooks/delivery/").status_code == 403
    assert "Webhooks" not in client.get("/backend/").content.decode()


def test_the_sidebar_has_a_developer_section_for_operations(client):
    _ops(client)
    page = client.get("/backend/").content.decode()
    assert (
        "开发者" in page and "/backend/webhooks/endpoint/" in page and "/backend/webhooks/delivery/" in page
    )


def test_an_endpoint_leads_to_its_deliveries_and_counts_the_failed_ones(
    client, django_assert_max_num_queries
):
    """Why does my ERP get nothing? The endpoint (list and page) opens its own delivery log,
    and its failed rows at once; before, the log had to be found and filtered by hand."""
    _ops(client)
    quiet = make_endpoint("http://127.0.0.1:1/quiet", ["order.paid"])
    broken = make_endpoint("http://127.0.0.1:1/broken", ["order.paid"])
    _emit(3)
    Delivery.objects.filter(endpoint=broken).exclude(
        pk=Delivery.objects.filter(endpoint=broken).first().pk
    ).update(status="failed")
    logs = "/backend/webhooks/delivery/?endpoint__id__exact="
    with django_assert_max_num_queries(10):
        listing = client.get("/backend/webhooks/endpoint/").content.decode()
    assert f'href="{logs}{quiet.pk}"' in listing and f'href="{logs}{broken.pk}"' in listing
    failed_url = f"{logs}{broken.pk}&amp;status__exact=failed"
    assert f'href="{failed_url}"' in listing and "失败 2 条" in listing
    assert f"{logs}{quiet.pk}&amp;status__exact=failed" not in listing  # nothing failed there
    page = client.get(f"/backend/webhooks/endpoint/{broken.pk}/change/").content.decode()
    assert f'href="{failed_url}"' in page and "失败 2 条" in page
    shown = client.get(failed_url.replace("&amp;", "&")).context["cl"].result_list
    assert {(row.endpoint_id, row.status) for row in shown} == {(broken.pk, "failed")} and len(shown) == 2
    for n in range(5):
        make_endpoint(f"http://127.0.0.1:1/more{n}", ["order.paid"])
    with django_assert_max_num_queries(10):
        client.get("/backend/webhooks/endpoint/")


def test_an_endpoint_with_a_delivery_log_is_kept_and_the_page_says_why(client):
    """An endpoint that got even one test push could not be deleted by anyone, and the page
    blamed a permission (无权删除 Webhook 投递记录); now it says the log is kept and to switch
    the endpoint off. One that never sent anything is deleted as before."""
    client.force_login(make_staff("boss", superuser=True))
    used, fresh = make_endpoint("http://127.0.0.1:1/used"), make_endpoint("http://127.0.0.1:1/fresh")
    _emit(2)
    Delivery.objects.filter(endpoint=fresh).delete()
    page = client.get(f"/backend/webhooks/endpoint/{used.pk}/delete/").content.decode()
    assert "已有 2 条投递记录需要保留，不能删除；不再使用请关闭“启用”" in page and "无权删除" not in page
    assert client.post(f"/backend/webhooks/endpoint/{used.pk}/delete/", {"post": "yes"}).status_code == 200
    assert (
        Endpoint.objects.filter(pk=used.pk).exists() and Delivery.objects.filter(endpoint=used).count() == 2
    )
    reply = client.post(f"/backend/webhooks/endpoint/{fresh.pk}/delete/", {"post": "yes"})
    assert reply.status_code == 302 and not Endpoint.objects.filter(pk=fresh.pk).exists()
