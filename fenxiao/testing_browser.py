"""Browser test fixtures, one set for the whole suite (registered in the root conftest):
Playwright's sync API runs one event loop per thread, so every browser test shares the one
session `browser`."""

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
        "MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"
    ),
}

# The merchant works in the backend on a laptop.
DESKTOP = {"viewport": {"width": 1280, "height": 860}, "locale": "zh-CN"}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (make test installs Debian's chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between page actions are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Phone:
    """A buyer's or distributor's phone: a browser context at 375 × 812 that fails the test
    on any console error or page error."""

    def __init__(self, browser, base_url: str, name: str, desktop: bool = False):
        options = DESKTOP if desktop else PHONE
        self.context = browser.new_context(base_url=base_url, **options)
        self.page = self.context.new_page()
        self.name = name
        self.errors: list[str] = []
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def shot(self, label: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self):
        self.context.close()


@pytest.fixture
def phones(browser, live_server):
    opened = []

    def open_phone(name: str, desktop: bool = False) -> Phone:
        phone = Phone(browser, live_server.url, name, desktop)
        opened.append(phone)
        return phone

    yield open_phone
    errors = {p.name: p.errors for p in opened if p.errors}
    for phone in opened:
        phone.close()
    assert not errors, f"console errors: {errors}"


# True when the element's centre, scrolled to the bottom edge of the window, is the
# element itself (or inside it), not a bar drawn over it.
UNCOVERED = """el => {
    el.scrollIntoView({block: "end"});
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.bottom - 4);
    return el.contains(hit);
}"""


@pytest.fixture
def operations_desk(browser, live_server):
    """A 运营 staff member signed in to the backend on a laptop; fails on console errors."""
    from django.contrib.auth.models import Group

    from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
    from fenxiao.testing import make_staff

    ensure_staff_groups()
    staff = make_staff("ops")
    staff.groups.add(Group.objects.get(name=OPERATIONS))
    screen = Phone(browser, live_server.url, "backend", desktop=True)
    page = screen.page
    page.goto("/backend/login/")
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill("Staff#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/backend/")
    yield screen
    errors = screen.errors
    screen.close()
    assert not errors, f"console errors: {errors}"
