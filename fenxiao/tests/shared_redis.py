"""The Redis server tests of shared state use: TEST_REDIS_URL (default db 15 on localhost).

Tests that need it skip cleanly when it does not answer. They keep to their own key
prefixes (or, for the multi-node test, own the whole database it names)."""

import os

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def test_redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)


test_redis_url.__test__ = False  # a helper, not a test


def redis_reachable(url: str | None = None) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url or test_redis_url(), socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False
