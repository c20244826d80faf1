import pytest

pytest_plugins = ["fenxiao.testing_browser"]


@pytest.fixture(autouse=True)
def _sandbox_notifies_in_process(monkeypatch):
    """The sandbox gateway's notifier reaches the mall through the test client, not a socket."""
    from django.test import Client

    from fenxiao.payments.gateways import sandbox

    def deliver(url, body, headers):
        path = url.split("://", 1)[-1]
        path = path[path.index("/") :]
        extra = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in headers.items()
            if k.lower() != "content-type"
        }
        response = Client().post(path, body, content_type="application/json", **extra)
        return response.status_code, response.content

    monkeypatch.setattr(sandbox, "deliver", deliver)


@pytest.fixture
def postgres_only():
    from django.conf import settings

    if not settings.IS_POSTGRES:
        pytest.skip("concurrency tests run on PostgreSQL (DATABASE_URL)")


@pytest.fixture(autouse=True)
def _commit_hooks_run_like_production(monkeypatch):
    """Run `transaction.on_commit` callbacks when the code's own outermost transaction ends.

    pytest-django wraps each test in a transaction that is never committed, so callbacks
    (task enqueues, refunds, gateway notifications) would never fire. This treats the
    test's wrapper as if it were autocommit: a callback runs when the service's outermost
    `atomic` block exits successfully, and is dropped if that block rolls back.
    """
    from django.db import transaction
    from django.db.backends.base.base import BaseDatabaseWrapper

    original_on_commit = BaseDatabaseWrapper.on_commit
    original_exit = transaction.Atomic.__exit__

    def wrapped_by_test(conn):
        return any(block._from_testcase for block in conn.atomic_blocks)

    def code_depth(conn):
        return sum(1 for block in conn.atomic_blocks if not block._from_testcase)

    def on_commit(self, func, robust=False):
        if not (self.in_atomic_block and wrapped_by_test(self)):
            return original_on_commit(self, func, robust)
        depth = code_depth(self)
        if depth == 0:
            return func()
        self.__dict__.setdefault("_pending_commit_hooks", []).append([depth, func])

    def atomic_exit(self, exc_type, exc_value, tb):
        conn = transaction.get_connection(self.using)
        mine = wrapped_by_test(conn) and not self._from_testcase
        depth = code_depth(conn)
        try:
            return original_exit(self, exc_type, exc_value, tb)
        finally:
            if mine:
                pending = conn.__dict__.get("_pending_commit_hooks", [])
                failed = exc_type is not None or conn.needs_rollback
                keep, due = [], []
                for entry in pending:
                    if entry[0] < depth:
                        keep.append(entry)
                    elif failed:
                        continue
                    elif depth == 1:
                        due.append(entry[1])
                    else:
                        keep.append([depth - 1, entry[1]])
                conn._pending_commit_hooks = keep
                if exc_type is None:
                    for func in due:
                        func()

    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", on_commit)
    monkeypatch.setattr(transaction.Atomic, "__exit__", atomic_exit)
