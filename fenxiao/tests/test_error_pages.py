"""Error pages with DEBUG off: Chinese, in the storefront's style for buyers and the backend's
for staff, JSON under /api/; never Django's English default pages."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.test import Client, override_settings
from django.urls import path

from fenxiao import urls as project_urls
from fenxiao.customers.services.staff import FINANCE
from fenxiao.testing import make_buyer, make_staff

pytestmark = pytest.mark.django_db

ENGLISH = [
    "Not Found",
    "Server Error",
    "Bad Request",
    "Forbidden",
    "The requested resource",
    "CSRF verification failed",
    "A server error occurred",
]


@pytest.fixture(autouse=True)
def debug_off(settings):
    """As in production: with DEBUG on, Django shows its technical pages instead."""
    settings.DEBUG = False


def boom(request):
    raise RuntimeError("broken on purpose")


def suspicious(request):
    raise SuspiciousOperation("tampered")


# The project's URLs plus pages that fail, behind the project's error handlers.
urlpatterns = [
    path("boom/", boom),
    path("backend/boom/", boom),
    path("suspicious/", suspicious),
    path("backend/suspicious/", suspicious),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

failing = override_settings(ROOT_URLCONF=__name__)


def assert_chinese_page(reply, status, *, backend):
    assert reply.status_code == status
    body = reply.content.decode()
    assert reply["Content-Type"].startswith("text/html")
    assert str(status) in body
    for text in ENGLISH:
        assert text not in body, text
    if backend:
        assert "unfold/css/styles.css" in body and "返回后台首页" in body
        assert "storefront/app.css" not in body
    else:
        assert "storefront/app.css" in body and "回到首页" in body
        assert "unfold/css/styles.css" not in body
    return body


def staff_client(*roles, superuser=False) -> Client:
    user = make_staff("err", superuser=superuser)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def test_h5_404_is_the_storefront_page_in_chinese(client):
    body = assert_chinese_page(client.get("/no-such-page/"), 404, backend=False)
    assert "页面不存在" in body


def test_backend_404_is_the_backend_page_in_chinese():
    boss = staff_client(superuser=True)
    body = assert_chinese_page(boss.get("/backend/no-such-page/"), 404, backend=True)
    assert "页面不存在" in body


def test_backend_403_for_a_page_outside_the_role():
    finance = staff_client(FINANCE)
    body = assert_chinese_page(finance.get("/backend/catalog/category/"), 403, backend=True)
    assert "没有权限" in body and "换个账号登录" in body


def test_h5_403_on_a_form_posted_without_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_buyer())
    body = assert_chinese_page(browser.post("/me/addresses/new/", {"recipient": "张三"}), 403, backend=False)
    assert "页面已过期" in body


@failing
def test_500_pages_render_without_the_database():
    browser = Client(raise_request_exception=False)
    body = assert_chinese_page(browser.get("/boom/"), 500, backend=False)
    assert "服务器开小差了" in body
    boss = staff_client(superuser=True)
    boss.raise_request_exception = False
    body = assert_chinese_page(boss.get("/backend/boom/"), 500, backend=True)
    assert "服务器开小差了" in body


@failing
def test_400_pages(client):
    assert "请求有误" in assert_chinese_page(client.get("/suspicious/"), 400, backend=False)
    boss = staff_client(superuser=True)
    assert "请求有误" in assert_chinese_page(boss.get("/backend/suspicious/"), 400, backend=True)
    # A forged Host header is a 400 too.
    assert_chinese_page(client.get("/", HTTP_HOST="evil.example"), 400, backend=False)


def test_unknown_api_path_is_a_json_error(client):
    reply = client.get("/api/no-such-endpoint")
    assert reply.status_code == 404
    assert reply.json()["code"] == "NOT_FOUND" and "不存在" in reply.json()["message"]
