"""A burst of simultaneous password guesses, for real on PostgreSQL."""

import threading

import pytest
from django.conf import settings as django_settings

from fenxiao.customers.services import accounts
from fenxiao.testing import ApiClient, make_buyer, postgres_only_marks, run_together

pytestmark = postgres_only_marks()


@pytest.fixture
def checks(monkeypatch) -> list:
    """One entry per password actually checked, from any thread."""
    checked = []
    lock = threading.Lock()
    real_authenticate = accounts.authenticate

    def counting_authenticate(*args, **kwargs):
        with lock:
            checked.append(1)
        return real_authenticate(*args, **kwargs)

    monkeypatch.setattr(accounts, "authenticate", counting_authenticate)
    return checked


def test_thirty_concurrent_guesses_get_no_more_password_checks_than_the_limit(checks):
    make_buyer("13800000041", password="Secret#2026")

    def guess(i):
        client = ApiClient()
        client.client.defaults["REMOTE_ADDR"] = f"10.0.{i}.1"  # spread over addresses
        return client.post("/auth/login", {"phone": "13800000041", "password": f"Guess#{i:04d}"}).status_code

    statuses = run_together(30, guess)
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) == 5
    assert len(checks) == 5


def test_thirty_concurrent_guesses_from_one_address_get_no_more_than_its_limit(checks, monkeypatch):
    monkeypatch.setattr(django_settings, "LOGIN_FAILURE_LIMIT", 2)  # 8 per address

    def guess(i):
        return (
            ApiClient().post("/auth/login", {"phone": f"1370000{i:04d}", "password": "Guess#1"}).status_code
        )

    statuses = run_together(30, guess)
    assert statuses.count(401) == 8, statuses
    assert statuses.count(429) == 22
    assert len(checks) == 8
