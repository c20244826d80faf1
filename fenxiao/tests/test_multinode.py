"""Several nodes, one PostgreSQL database and one Redis: two granian web servers and two
`run_huey` consumers, each a process of its own with its own (empty) var directory, as
separate machines would run them. Shown here: a scheduled task's slot runs once across the
consumers, concurrent settlement runs on both consumers settle each commission once, a
buyer signed in on one server is signed in on the other, and attempts counted on one
server are limited on the other.

The consumers run without their own schedulers (--no-periodic): the test enqueues the
scheduled tasks itself, for named slots, instead of waiting for real minutes. It owns the
Redis database TEST_REDIS_URL names and empties it before and after.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import global_settings, settings
from django.db import connection
from django.utils import timezone
from huey import RedisHuey

from fenxiao.core.models import PeriodicRun
from fenxiao.distribution import tasks
from fenxiao.distribution.models import Commission, LedgerEntry, SettlementCycleRun
from fenxiao.distribution.tests.helpers import (
    bound_buyer,
    buy,
    configure,
    ledger_sum,
    make_distributor,
    receive,
    sku,
    travel,
)
from fenxiao.testing import make_buyer, make_product, postgres_only_marks
from fenxiao.tests.shared_redis import redis_reachable, test_redis_url

pytestmark = [
    *postgres_only_marks("several nodes share one database: PostgreSQL only"),
    pytest.mark.skipif(not redis_reachable(), reason=f"no Redis at {test_redis_url()} (set TEST_REDIS_URL)"),
]

ROOT = Path(settings.BASE_DIR)
PASSWORD = "Secret#2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, *, what: str, timeout: float = 120.0):
    # Generous: it only runs out when something is wrong, and four processes starting and
    # working on a machine busy with the rest of the suite can take well over 30 s.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    def __init__(self, tmp_path: Path):
        db = connection.settings_dict
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        # What every node is given: the shared services and the shared secrets. Nothing
        # else: each node's var directory is its own and starts empty.
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "DJANGO_SETTINGS_MODULE": "fenxiao.settings",
            "FENXIAO_DEMO": "1",
            "DATABASE_URL": f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}",
            "REDIS_URL": test_redis_url(),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SANDBOX_PAY_SECRET": secrets.token_urlsafe(32),
            "HUEY_IMMEDIATE": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.tmp = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.logs: dict[str, Path] = {}
        self.ports: list[int] = []

    def _start(self, name: str, args: list[str]) -> None:
        log = self.tmp / f"{name}.log"
        env = {**self.env, "FENXIAO_VAR_DIR": str(self.tmp / name)}
        with log.open("wb") as out:
            self.processes.append(
                subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
            )
        self.logs[name] = log

    def start(self) -> None:
        for name in ("web-a", "web-b"):
            port = free_port()
            self.ports.append(port)
            self._start(
                name,
                [
                    sys.executable,
                    "-m",
                    "granian",
                    "--interface",
                    "wsgi",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                    "--blocking-threads",
                    "2",
                    "fenxiao.wsgi:application",
                ],
            )
        for name in ("consumer-a", "consumer-b"):
            self._start(
                name,
                [
                    sys.executable,
                    "manage.py",
                    "run_huey",
                    "--workers",
                    "2",
                    "--no-periodic",
                    "--delay",
                    "0.05",
                ],
            )
        for port in self.ports:
            wait_for(lambda port=port: self.get(port, "/api/v1/products")[0] == 200, what=f"web on {port}")
        for name in ("consumer-a", "consumer-b"):
            wait_for(lambda name=name: "consumer started" in self.log(name), what=f"{name} to start")

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def consumer_logs(self) -> str:
        return self.log("consumer-a") + self.log("consumer-b")

    def request(self, port: int, method: str, path: str, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - a local test server
            f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers or {}
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=20) as reply:  # noqa: S310
                return reply.status, reply.read(), reply.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers
        except OSError:
            return 0, b"", {}

    def get(self, port, path, headers=None):
        return self.request(port, "GET", path, headers=headers)


@pytest.fixture
def cluster(tmp_path):
    store = redis.Redis.from_url(test_redis_url())
    store.flushdb()  # the test's own database (TEST_REDIS_URL)
    nodes = Cluster(tmp_path)
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()
        store.flushdb()


@pytest.fixture
def queue():
    """The shared Redis queue, as the web nodes enqueue into it."""
    huey = RedisHuey("fenxiao", url=test_redis_url(), utc=False)
    for wrapper in (tasks.scheduled_settlement, tasks.daily_grade_upgrades):
        huey._registry.register(wrapper.task_class)
    return huey


def executed(logs: str, task: str) -> int:
    """How many copies of `task` the consumers finished (huey logs each line twice: to its
    own handler and to the root logger)."""
    return len(set(re.findall(rf"{re.escape(task)}: (\S+) executed in", logs)))


def test_two_web_servers_and_two_consumers_share_one_database_and_one_redis(cluster, queue, settings):
    # (a) A scheduled task's slot, enqueued ten times (as ten schedulers would), runs once.
    slot = timezone.localtime().replace(hour=4, minute=0, second=0, microsecond=0).isoformat()
    for _ in range(10):
        queue.enqueue(tasks.daily_grade_upgrades.s(slot=slot))
    name = "fenxiao.distribution.tasks.daily_grade_upgrades"
    wait_for(lambda: executed(cluster.consumer_logs(), name) == 10, what="ten copies to run")
    logs = cluster.consumer_logs()
    assert logs.count(f"periodic task {name}: slot {slot} claimed by") == 1
    assert logs.count(f"periodic task {name}: slot {slot} already claimed, skipped") == 9
    run = PeriodicRun.objects.get(task=name)
    consumer_pids = {str(p.pid) for p in cluster.processes[2:]}
    assert run.claimed_by.rsplit(":", 1)[1] in consumer_pids

    # (b) Settlement runs for four slots at once on both consumers: each commission once.
    configure(settlement_mode="auto", settlement_cycle="daily")
    a = make_distributor()
    b = make_distributor(parent=a)
    lamp = make_product("台灯", price=10000)
    with travel(-timedelta(days=30)):  # completed a month ago: the hold has ended
        for _ in range(4):
            receive(buy(bound_buyer(b), (sku(lamp), 1)))
    assert set(Commission.objects.values_list("status", flat=True)) == {"frozen"}
    today = timezone.localtime().replace(second=0, microsecond=0)
    for minutes in range(4):
        queue.enqueue(tasks.scheduled_settlement.s(slot=(today - timedelta(minutes=minutes)).isoformat()))
    name = "fenxiao.distribution.tasks.scheduled_settlement"
    wait_for(lambda: executed(cluster.consumer_logs(), name) == 4, what="four settlement runs")
    assert cluster.consumer_logs().count(f"periodic task {name}: slot") == 4  # four slots, four runs
    assert "Traceback" not in cluster.consumer_logs(), cluster.consumer_logs()
    assert set(Commission.objects.values_list("status", flat=True)) == {"settled"}
    assert (ledger_sum(b), ledger_sum(a)) == (4000, 2000)
    per_commission = LedgerEntry.objects.filter(kind="commission").values_list("commission_id", flat=True)
    assert sorted(per_commission) == sorted(Commission.objects.values_list("pk", flat=True))
    assert SettlementCycleRun.objects.count() == 1

    # (c) A buyer signs in on server A and is signed in on server B.
    web_a, web_b = cluster.ports
    # The servers check passwords with the production hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    make_buyer("13800000071", password=PASSWORD)
    csrf = secrets.token_hex(16)  # any well-formed token; the cookie and the header match
    status, body, headers = cluster.request(
        web_a,
        "POST",
        "/api/v1/auth/login?session=true",
        {"phone": "13800000071", "password": PASSWORD},
        {"Cookie": f"csrftoken={csrf}", "X-CSRFToken": csrf, "Origin": f"http://127.0.0.1:{web_a}"},
    )
    assert status == 200, body
    session = re.search(r"sessionid=([^;]+)", " ".join(headers.get_all("Set-Cookie"))).group(1)
    status, body, _ = cluster.get(web_b, "/api/v1/me", {"Cookie": f"sessionid={session}"})
    assert status == 200, body
    assert json.loads(body)["phone"] == "13800000071"
    assert cluster.get(web_b, "/api/v1/me")[0] == 401  # and not without the cookie
    shared = redis.Redis.from_url(test_redis_url())
    assert shared.keys(f"*django.contrib.sessions.cached_db{session}")  # read from Redis

    # Attempts counted on A are limited on B: five wrong passwords on A, the sixth on B.
    make_buyer("13800000072", password=PASSWORD)
    for _ in range(5):
        status, body, _ = cluster.request(
            web_a, "POST", "/api/v1/auth/login", {"phone": "13800000072", "password": "Wrong#2026"}
        )
        assert status == 401, body
    status, body, _ = cluster.request(
        web_b, "POST", "/api/v1/auth/login", {"phone": "13800000072", "password": PASSWORD}
    )
    assert (status, json.loads(body)["code"]) == (429, "LOGIN_RATE_LIMITED")
    assert shared.keys("*ratelimit:login-account:*")  # counted in Redis
