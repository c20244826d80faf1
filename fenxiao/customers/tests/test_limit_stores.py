"""The attempt counters behave the same in each store: the database (no Redis), Redis (when
REDIS_URL is set), and any other Django cache."""

import time
import uuid

import pytest

from fenxiao.customers.models import RateCounter
from fenxiao.customers.services import limits
from fenxiao.testing import ApiClient, make_buyer, run_together
from fenxiao.tests.shared_redis import redis_reachable, test_redis_url

pytestmark = pytest.mark.django_db

PASSWORD = "Secret#2026"


@pytest.fixture(params=["database", "redis", "locmem"])
def store(request, settings):
    """Points the counters at one store; Redis keys get a prefix of their own."""
    if request.param == "database":
        settings.RATE_LIMIT_CACHE = ""
        return request.param
    if request.param == "redis":
        if not redis_reachable():
            pytest.skip(f"no Redis at {test_redis_url()} (set TEST_REDIS_URL)")
        backend = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": test_redis_url(),
            "KEY_PREFIX": f"test-limits-{uuid.uuid4().hex}",
        }
    else:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    settings.CACHES = {**settings.CACHES, "limits": backend}
    settings.RATE_LIMIT_CACHE = "limits"
    return request.param


def key() -> str:
    return limits.counter_key("test", uuid.uuid4().hex)


def test_hits_count_up_and_reset_and_release_give_back(store):
    k = key()
    assert [limits.hit(k, 60) for _ in range(3)] == [1, 2, 3]
    limits.release(k)
    assert limits.hit(k, 60) == 3
    limits.reset(k)
    assert limits.hit(k, 60) == 1
    limits.reset(k)
    limits.release(k)  # nothing to give back: never below zero
    assert limits.hit(k, 60) == 1
    other = key()
    assert limits.hit(other, 60) == 1  # each key counts on its own


def test_a_window_that_ended_starts_again_at_one(store):
    # Windows end on whole seconds, so a window of N seconds lasts between N-1 and N: three
    # seconds leave the three hits at least two, even on a loaded machine.
    k = key()
    assert [limits.hit(k, 3) for _ in range(3)] == [1, 2, 3]
    time.sleep(3.1)
    assert limits.hit(k, 3) == 1
    limits.release(k)
    assert limits.hit(k, 3) == 1


def test_the_login_limit_holds_in_every_store(store):
    make_buyer("13800000061", password=PASSWORD)
    for _ in range(5):
        reply = ApiClient().post("/auth/login", {"phone": "13800000061", "password": "Wrong#2026"})
        assert reply.status_code == 401
    reply = ApiClient().post("/auth/login", {"phone": "13800000061", "password": PASSWORD})
    assert reply.status_code == 429
    assert reply.json()["code"] == "LOGIN_RATE_LIMITED"
    # With a shared cache, counting attempts writes nothing to the database.
    assert RateCounter.objects.exists() == (store == "database")


@pytest.mark.parametrize("store", ["redis", "locmem"], indirect=True)
def test_a_burst_gets_each_count_once(store):
    k = key()
    counts = run_together(20, lambda i: limits.hit(k, 60))
    assert sorted(counts) == list(range(1, 21))
