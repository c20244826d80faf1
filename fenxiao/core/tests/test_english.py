"""The mall's own refusals in English: error pages (storefront, backend, API), the API's
validation and auth refusals, the backend menu and the job centre. Chinese stays the default."""

import html
import re

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from fenxiao.core.models import Job, JobStatus
from fenxiao.testing import backend_content, chinese_left, in_english, login, make_buyer, make_staff

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3400-\u9fff]")
# The project's URLs plus pages that fail on purpose (a 400 among them).
failing = override_settings(ROOT_URLCONF="fenxiao.tests.test_error_pages")


@pytest.fixture(autouse=True)
def debug_off(settings):
    """As in production: with DEBUG on, Django shows its technical pages instead."""
    settings.DEBUG = False


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def english_page(reply, status: int) -> str:
    assert reply.status_code == status
    body = reply.content.decode()
    assert '<html lang="en"' in body, body[:300]
    assert chinese_left(body) == []
    return body


# --- error pages ----------------------------------------------------------------------------


def test_h5_404_in_english(client):
    body = english_page(in_english(client).get("/no-such-page/"), 404)
    assert "Page not found" in body and "Back to home" in body and "storefront/app.css" in body


def test_h5_403_csrf_page_in_english():
    browser = in_english(Client(enforce_csrf_checks=True))
    browser.force_login(make_buyer())
    body = english_page(browser.post("/me/addresses/new/", {"recipient": "Ann"}), 403)
    assert "Page expired" in body and "Log in with another account" in body


@failing
def test_400_pages_in_english(client, boss):
    body = english_page(in_english(client).get("/suspicious/"), 400)
    assert "Bad request" in body
    body = english_page(in_english(boss).get("/backend/suspicious/"), 400)
    assert "Bad request" in body and "Back to admin home" in body


@failing
def test_500_page_in_english(client):
    browser = in_english(Client(raise_request_exception=False))
    body = english_page(browser.get("/boom/"), 500)
    assert "Something went wrong" in body


def test_backend_404_in_english(boss):
    body = english_page(in_english(boss).get("/backend/no-such-page/"), 404)
    assert "Page not found" in body and "Back to admin home" in body and "unfold/css/styles.css" in body


def test_backend_403_in_english():
    from django.contrib.auth.models import Group

    from fenxiao.customers.services.staff import FINANCE

    finance = make_staff("fin")
    finance.groups.add(Group.objects.get(name=FINANCE))
    body = english_page(in_english(login(finance)).get("/backend/catalog/category/"), 403)
    assert "Access denied" in body and "Log in with another account" in body


def test_error_pages_stay_chinese_by_default(client, boss):
    assert "页面不存在" in client.get("/no-such-page/").content.decode()
    body = boss.get("/backend/no-such-page/").content.decode()
    assert "页面不存在" in body and "返回后台首页" in body


# --- the API's refusals ---------------------------------------------------------------------


def english_refusal(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.content
    body = reply.json()
    assert body["code"] == code, body
    assert body["message"] and not CJK.search(body["message"]), body
    return body


def test_api_refusals_in_english_with_the_same_code(client):
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    # Not signed in.
    english_refusal(client.get("/api/v1/orders", **en), 401, "UNAUTHORIZED")
    assert CJK.search(client.get("/api/v1/orders").json()["message"])
    # An unknown path.
    body = english_refusal(client.get("/api/no-such-endpoint", **en), 404, "NOT_FOUND")
    assert "Page not found" in body["message"]
    # A malformed JSON body, and a missing field.
    broken = client.post("/api/v1/auth/login", "{not json", content_type="application/json", **en)
    chinese = client.post("/api/v1/auth/login", "{not json", content_type="application/json")
    assert broken.status_code == chinese.status_code and broken.json()["code"] == chinese.json()["code"]
    english_refusal(broken, broken.status_code, chinese.json()["code"])
    assert CJK.search(chinese.json()["message"])
    missing = client.post("/api/v1/auth/login", {}, content_type="application/json", **en)
    english_refusal(missing, 422, "INVALID_INPUT")
    # A NUL byte, refused before any view runs (and before the language middleware).
    nul = client.post("/api/v1/auth/login", '{"phone": "1\\u0000"}', content_type="application/json", **en)
    english_refusal(nul, 400, "INVALID_CHARACTERS")


def test_h5_nul_refusal_in_english(client):
    body = english_page(in_english(client).get("/search/?q=a%00b"), 400)
    assert "Error code: INVALID_CHARACTERS" in body


# --- the backend menu and the job centre ------------------------------------------------------


def nav_titles(language: str) -> tuple[list[str], list[str]]:
    """The menu's group titles and entry titles (backend_nav), in `language`."""
    groups, items = [], []
    with translation.override(language):
        for group in settings.UNFOLD["SIDEBAR"]["navigation"]:
            groups.append(str(group["title"]))
            items += [str(item["title"]) for item in group["items"]]
    return groups, items


def menu_of(body: str) -> tuple[list[str], list[str]]:
    """The group titles and entry titles the sidebar's navigation shows."""
    sidebar = body[body.index('id="nav-sidebar-apps"') : body.index('id="content"')]
    groups = [
        g.strip() for g in re.findall(r'<h2 class="font-semibold flex[^"]*"[^>]*>([^<]*)</h2>', sidebar)
    ]
    items = re.findall(r'<a href="[^"]+" class="flex h-\[38px\][^"]*">.*?<span>([^<]*)</span>', sidebar, re.S)
    return [html.unescape(g) for g in groups], [html.unescape(i.strip()) for i in items]


def test_backend_menu_in_english(boss):
    body = in_english(boss).get(reverse("admin:index")).content.decode()
    groups, items = menu_of(body)
    assert len(groups) >= 8 and len(items) >= 40
    for text in groups + items:
        assert not CJK.search(text), text
    english_groups, english_items = nav_titles("en")
    assert set(groups) <= set(english_groups) and "Data" in groups and "Marketing" in groups
    assert set(items) <= set(english_items) and {"Business overview", "Job center", "Payments"} <= set(items)
    # The site's own title too.
    assert "Fenxiao Mall Admin" in body


def test_backend_menu_stays_chinese_by_default(boss):
    groups, items = menu_of(boss.get(reverse("admin:index")).content.decode())
    chinese_groups, chinese_items = nav_titles("zh-hans")
    assert "数据" in groups and "经营概况" in items and "任务中心" in items
    assert set(groups) <= set(chinese_groups) and set(items) <= set(chinese_items)


@pytest.fixture
def export_job():
    """A finished and a failed job of a kind the superuser may see (a list's export)."""
    from fenxiao.core import jobs

    kind = next(key for key in jobs._KINDS if key.startswith("export."))
    boss = make_staff("owner", superuser=True)
    done = Job.objects.create(kind=kind, title="Orders export", status=JobStatus.SUCCEEDED, total=3, done=3)
    failed = Job.objects.create(
        kind=kind,
        title="Customers export",
        status=JobStatus.FAILED,
        total=4,
        done=1,
        message="disk full",
        created_by=boss,
    )
    return done, failed


def test_job_centre_in_english(boss, export_job):
    done, failed = export_job
    browser = in_english(boss)
    listing = browser.get(reverse("admin:core_job_changelist")).content.decode()
    assert "Orders export" in listing and "Progress" in listing
    assert chinese_left(backend_content(listing), *_kind_labels()) == []
    page = browser.get(reverse("admin:core_job_change", args=[failed.pk])).content.decode()
    assert "Progress and result" in page and "Failed: disk full" in page
    assert chinese_left(backend_content(page), *_kind_labels()) == []
    block = browser.get(reverse("admin:core_job_progress", args=[done.pk])).content.decode()
    assert "Completed, 3 records" in block and chinese_left(block) == []
    retry = browser.get(reverse("admin:core_job_retry_job", args=[failed.pk])).content.decode()
    assert "Run again: Customers export" in retry and "Last failure reason" in retry
    assert chinese_left(backend_content(retry), *_kind_labels()) == []


def _kind_labels() -> list[str]:
    """Exports are named after other apps' lists (their titles are those apps' strings)."""
    from fenxiao.core import jobs

    with translation.override("en"):
        return [str(kind.label) for kind in jobs._KINDS.values()]


def test_job_centre_stays_chinese_by_default(boss, export_job):
    block = boss.get(reverse("admin:core_job_progress", args=[export_job[0].pk])).content.decode()
    assert "已完成，共 3 条" in block
