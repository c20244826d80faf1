"""A real `manage.py run_huey` consumer killed mid-refund strands nothing and pays once.

The consumer runs in its own process against the test database (PostgreSQL, so two
processes can share it) and a file Huey queue. Its sandbox gateway books the refund and
then takes a minute to answer; the test stops the consumer (SIGTERM, as a deploy does,
then SIGKILL if it lingers) while it waits for that answer. The refund is left
`processing`; once its deadline passes the sweeper re-drives it, and the gateway answers
the repeated refund number with the refund it already made.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from fenxiao.orders.models import AfterSale
from fenxiao.orders.services import after_sales
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.models import Refund, SandboxRefund, SandboxTrade
from fenxiao.payments.services import refunds
from fenxiao.testing import (
    make_address,
    make_buyer,
    make_product,
    make_staff,
    pay_in_sandbox,
    postgres_only_marks,
)

pytestmark = postgres_only_marks("two processes share the database: PostgreSQL only")

ROOT = Path(settings.BASE_DIR)


def wait_for(check, *, timeout=60.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def file_queue(tmp_path):
    """Tasks go to a Huey file queue a separate consumer reads, not run in this process."""
    saved = dict(HUEY.storage_kwargs)
    HUEY.storage_kwargs["filename"] = str(tmp_path / "huey.sqlite3")
    HUEY.immediate = False
    try:
        yield tmp_path / "huey.sqlite3"
    finally:
        HUEY.storage_kwargs.clear()
        HUEY.storage_kwargs.update(saved)
        HUEY.immediate = True


def start_consumer(queue: Path, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fenxiao.payments.tests.slow_gateway_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}",
        "HUEY_SQLITE_PATH": str(queue),
        "HUEY_IMMEDIATE": "false",
        # A local, non-production process: built-in secrets and the sandbox are fine.
        "DEBUG": "true",
    }
    env.pop("REDIS_URL", None)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "run_huey", "--workers", "1", "--no-periodic", "--delay", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(consumer: subprocess.Popen) -> None:
    consumer.send_signal(signal.SIGTERM)
    try:
        consumer.wait(timeout=10)
    except subprocess.TimeoutExpired:
        consumer.kill()
        consumer.wait(timeout=10)


def test_refund_survives_the_worker_being_killed_mid_call(postgres_only, file_queue, tmp_path):
    buyer = make_buyer()
    sku = make_product(price=4200, stock=10).skus.get()
    order = place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)
    pay_in_sandbox(order)

    after_sales.request_after_sale(
        order, make_staff(), kind="refund_only", reason="退款", lines=[{"line_id": order.lines.get().pk}]
    )
    refund = Refund.objects.get()
    assert refund.status == "pending"
    # Queued for the consumer, not run here (beside it: the buyer's tag recompute, twice).
    assert [task.name for task in HUEY.pending()].count("execute_refund") == 1

    log = tmp_path / "consumer.log"
    consumer = start_consumer(file_queue, log)
    try:
        wait_for(
            lambda: SandboxRefund.objects.exists(),
            what="the consumer to reach the gateway\n" + (log.read_text() if log.exists() else ""),
        )
        time.sleep(0.5)  # now it waits for the gateway's (late) answer
        assert consumer.poll() is None, log.read_text()
    finally:
        stop(consumer)

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("processing", 1)
    assert SandboxTrade.objects.get().refunded_amount == 4200  # the gateway paid
    assert AfterSale.objects.get().status == "approved"  # the mall never heard

    HUEY.immediate = True  # the next worker: this process
    assert refunds.sweep() == 0  # the dead worker's claim has not expired yet
    assert refunds.sweep(timezone.now() + timedelta(minutes=6)) == 1

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 2)
    assert SandboxRefund.objects.count() == 1
    assert refund.gateway_refund_id == SandboxRefund.objects.get().refund_id
    assert SandboxTrade.objects.get().refunded_amount == 4200  # refunded once
    assert AfterSale.objects.get().status == "refunded"
    assert order.events.filter(kind="refunded").count() == 1
