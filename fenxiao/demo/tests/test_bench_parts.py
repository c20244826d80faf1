"""The load bench's pure parts: pgbench output, percentiles, the table, the HTTP client on a
loopback server, the SQL row generator and the post-run checks. Nothing here is timed: the
bench itself runs in `make bench`, never in the test suite."""

import asyncio
import itertools
import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from fenxiao import testing
from fenxiao.demo.bench import cpu, fixtures, flash_bench, loadgen, report, settlement_bench
from fenxiao.demo.bench.database import PgServer
from fenxiao.demo.bench.pgbench import PgbenchError, parse_tps

PGBENCH_15 = """pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: <builtin: TPC-B (sort of)>
scaling factor: 10
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 30 s
number of transactions actually processed: 41234
number of failed transactions: 0 (0.000%)
latency average = 5.821 ms
initial connection time = 12.345 ms
tps = 1374.456789 (without initial connection time)
"""

PGBENCH_13 = """number of transactions actually processed: 1000
tps = 812.300000 (including connections establishing)
tps = 815.900000 (excluding connections establishing)
"""


def run_loop(coroutine):
    """`asyncio.run` in a thread of its own: the browser tests' Playwright keeps an event
    loop running in the main thread for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_pgbench_tps_is_read_without_connection_time():
    assert parse_tps(PGBENCH_15) == pytest.approx(1374.456789)
    assert parse_tps(PGBENCH_13) == pytest.approx(815.9)


def test_pgbench_output_without_tps_is_an_error():
    with pytest.raises(PgbenchError):
        parse_tps("pgbench: error: connection to server failed\n")


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(100, 0, -1)]  # 100 … 1, unsorted on purpose
    assert loadgen.percentile(values, 50) == 50
    assert loadgen.percentile(values, 99) == 99
    assert loadgen.percentile(values, 100) == 100
    assert loadgen.percentile([7.0], 99) == 7
    assert math.isnan(loadgen.percentile([], 50))


def test_recorder_rate_is_over_the_whole_run():
    recorder = loadgen.Recorder(latencies=[0.010, 0.020, 0.030, 0.040], elapsed=2.0)
    summary = recorder.summary()
    assert summary["per_second"] == 2.0
    assert summary["p50_ms"] == 20.0
    assert summary["p99_ms"] == 40.0


def test_table_puts_each_figure_beside_pgbench_with_its_verdict():
    rows = [
        report.Row("checkout (orders/s)", 150.0, "pgbench TPC-B TPS", 1000.0, report.Target("ratio", 0.10)),
        report.Row(
            "checkout slow (orders/s)", 50.0, "pgbench TPC-B TPS", 1000.0, report.Target("ratio", 0.10)
        ),
        report.Row(
            "/r/<code> (req/s)", 1999.0, "pgbench select-only TPS", 20000.0, report.Target("value", 2000)
        ),
        report.Row("checkout p99 (ms)", 250.0),
        report.Row("nothing measured (req/s)", math.nan, target=report.Target("value", 1)),
    ]
    lines = report.format_table(rows).splitlines()
    assert lines[0].split() == ["figure", "value", "pgbench", "(same", "run)", "ratio", "target", "verdict"]
    assert "15.0 %" in lines[2] and lines[2].endswith("ok")
    assert "5.0 %" in lines[3] and lines[3].endswith("MISS")
    assert "1,999" in lines[4] and "≥ 2,000" in lines[4] and lines[4].endswith("MISS")
    assert lines[5].endswith("—") and "pgbench" not in lines[5]
    assert lines[6].endswith("MISS")
    # Values are right-aligned under their heading.
    value_end = lines[0].index("value") + len("value")
    assert lines[2].index(" 150 ") + len(" 150") == value_end
    assert lines[4].index(" 1,999 ") + len(" 1,999") == value_end


def test_report_is_kept_as_json_and_markdown(tmp_path):
    rows = [
        report.Row(
            "settle 100,000 (commissions/s)",
            31000.0,
            "pgbench TPC-B TPS",
            1500.0,
            report.Target("value", 30000),
        )
    ]
    json_path, md_path = report.write(rows, tmp_path / "bench", details={"pgbench": {"tpcb_tps": 1500.0}})
    data = json.loads(json_path.read_text())
    assert data["rows"][0]["verdict"] == "ok"
    assert data["rows"][0]["ratio"] == pytest.approx(31000 / 1500)
    assert data["details"]["pgbench"]["tpcb_tps"] == 1500.0
    assert "| settle 100,000 (commissions/s) | 31,000 |" in md_path.read_text()


def _fake_process(
    proc, pid: int, name: str, session: int, utime: int, stime: int, *, children: tuple[int, int] = (0, 0)
) -> None:
    # /proc/<pid>/stat: pid (name) state ppid pgrp session tty tpgid flags 4 fault counts
    # utime stime cutime cstime (the CPU of children waited for) …
    (proc / str(pid)).mkdir(exist_ok=True)
    (proc / str(pid) / "stat").write_text(
        f"{pid} ({name}) S 1 {session} {session} 0 -1 4194304 10 0 0 0 {utime} {stime} "
        f"{children[0]} {children[1]} 20 0 1 0\n"
    )


def test_cpu_is_counted_per_session_and_process_name_between_start_and_stop(tmp_path):
    ticks = cpu._TICKS
    _fake_process(tmp_path, 500, "granian", 500, 1 * ticks, 0)
    _fake_process(tmp_path, 501, "granian (worker) 1", 500, 2 * ticks, 1 * ticks)
    _fake_process(tmp_path, 600, "python", 600, 0, 0)
    _fake_process(tmp_path, 700, "postgres", 700, 5 * ticks, 0)
    _fake_process(tmp_path, 701, "postgres", 701, 0, 0)
    _fake_process(tmp_path, 800, "redis-server", 800, 9 * ticks, 0)  # not watched
    (tmp_path / "self").mkdir()  # not a process
    groups = cpu.Groups(sessions={"web": 500, "consumer": 600}, names={"PostgreSQL": "postgres"})
    assert groups.read(tmp_path) == {"web": 4.0, "consumer": 0.0, "PostgreSQL": 5.0}

    watch = cpu.CpuWatch(groups, proc=tmp_path)
    assert watch.per(10) == {}  # nothing measured yet
    watch.start()
    _fake_process(tmp_path, 501, "granian (worker) 1", 500, 6 * ticks, 3 * ticks)  # +6 s
    _fake_process(tmp_path, 600, "python", 600, 1 * ticks, 1 * ticks)  # +2 s
    _fake_process(tmp_path, 701, "postgres", 701, 1 * ticks, 0)  # +1 s
    # A backend that came and went: 2 s of its CPU now on the postmaster's record.
    _fake_process(tmp_path, 700, "postgres", 700, 5 * ticks, 0, children=(1 * ticks, 1 * ticks))
    _fake_process(tmp_path, 800, "redis-server", 800, 99 * ticks, 0)
    watch.stop()
    assert watch.per(4) == {"web": 1500.0, "consumer": 500.0, "PostgreSQL": 750.0}
    assert watch.per(4, unit=1_000_000)["PostgreSQL"] == 750_000.0
    assert watch.per(0) == {}


def test_cpu_of_this_process_is_read_from_the_real_proc():
    before = cpu.Groups(me="load generator").read()["load generator"]
    sum(i * i for i in range(2_000_000))  # some CPU of our own
    after = cpu.Groups(me="load generator").read()["load generator"]
    assert after > before > 0


def test_cpu_of_a_child_that_ended_stays_with_its_parent():
    # As PostgreSQL's backends that close while the bench runs: the kernel adds a child's CPU
    # to its parent's record once the parent has waited for it.
    before = cpu.Groups(me="parent").read()["parent"]
    burn = "import time\nt = time.process_time() + 0.3\nwhile time.process_time() < t: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)  # noqa: S603 - this interpreter
    assert cpu.Groups(me="parent").read()["parent"] - before >= 0.25


def test_server_url_keeps_credentials_and_names_the_database():
    server = PgServer.from_url("postgres://bench%40ops:p%3Ass@db.internal:6543/fenxiao")
    assert (server.host, server.port, server.user, server.password) == (
        "db.internal",
        6543,
        "bench@ops",
        "p:ss",
    )
    assert server.url("fenxiao_bench") == "postgres://bench%40ops:p%3Ass@db.internal:6543/fenxiao_bench"
    assert server.libpq_env()["PGPASSWORD"] == "p:ss"
    with pytest.raises(ValueError):
        PgServer.from_url("sqlite:///var/fenxiao.sqlite3")


# --- the HTTP client against a tiny loopback server ---------------------------------------


async def _serve(handler):
    """A loopback HTTP/1.1 server: `handler(method, path, headers, body, connection_no)`
    returns raw response bytes (ending in `<cut>`: then the connection is closed), or None
    to close the connection instead of answering."""
    opened = []

    async def on_connect(reader, writer):
        opened.append(writer)
        number = len(opened)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode().split("\r\n")
                headers = {}
                for line in header_lines:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                method, path, _ = request_line.split(" ")
                reply = handler(method, path, headers, body, number)
                if reply is None:
                    break
                writer.write(reply.removesuffix(b"<cut>"))
                await writer.drain()
                if reply.endswith(b"<cut>"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], opened


def _reply(status: int, body: bytes, *extra: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_client_keeps_the_connection_alive_and_reads_chunked_bodies_and_cookies():
    def handler(method, path, headers, body, number):
        if path == "/chunked":
            return (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )
        if path == "/login":
            return _reply(
                200, b"{}", "Set-Cookie: sid=abc; Path=/; HttpOnly", "Set-Cookie: csrftoken=t1; Path=/"
            )
        echoed = json.dumps({"method": method, "cookie": headers.get("cookie", ""), "body": body.decode()})
        return _reply(201 if method == "POST" else 200, echoed.encode())

    async def scenario():
        server, port, opened = await _serve(handler)
        async with server:
            session = loadgen.Session(loadgen.Connection("127.0.0.1", port))
            chunked = await session.get("/chunked")
            await session.get("/login")
            posted = await session.post_json("/echo", {"a": 1}, expect=(201,))
            with pytest.raises(loadgen.HttpError):
                await session.get("/echo", expect=(302,))
            await session.close()
            return chunked, posted.json(), len(opened)

    chunked, posted, connections = run_loop(scenario())
    assert chunked.body == b"hello world"
    assert posted == {"method": "POST", "cookie": "sid=abc; csrftoken=t1", "body": '{"a": 1}'}
    assert connections == 1


def test_client_reconnects_when_the_server_closed_the_connection():
    def handler(method, path, headers, body, number):
        if path == "/bye":
            return _reply(200, b"bye", "Connection: close")
        if path == "/drop" and number == 2:
            return None  # the server drops a kept-alive connection before answering
        return _reply(200, f"conn {number}".encode())

    async def scenario():
        server, port, opened = await _serve(handler)
        async with server:
            connection = loadgen.Connection("127.0.0.1", port)
            first = await connection.request("GET", "/bye")
            second = await connection.request("GET", "/hello")  # a new connection, silently
            third = await connection.request("GET", "/drop")  # dropped, retried once on a fresh one
            await connection.close()
            return first.body, second.body, third.body, len(opened)

    assert run_loop(scenario()) == (b"bye", b"conn 2", b"conn 3", 3)


def test_client_never_retries_a_request_that_was_answered_in_part():
    seen = []

    def handler(method, path, headers, body, number):
        seen.append((method, path, number))
        if path == "/checkout":
            return b'HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n{"number"<cut>'
        return _reply(200, b"ok")

    async def scenario():
        server, port, _opened = await _serve(handler)
        async with server:
            connection = loadgen.Connection("127.0.0.1", port)
            await connection.request("GET", "/warm")
            with pytest.raises(loadgen.HttpError, match="truncated"):
                await connection.request("POST", "/checkout", body=b"{}")
            await connection.close()

    run_loop(scenario())
    assert seen == [("GET", "/warm", 1), ("POST", "/checkout", 1)]


def test_run_for_counts_successes_and_failures_until_the_end():
    calls = []

    async def operation(user):
        calls.append(user)
        await asyncio.sleep(0.01)
        if user == 1:
            raise loadgen.HttpError("refused")

    recorder = run_loop(loadgen.run_for(0.2, 2, operation))
    assert recorder.count == calls.count(0) > 5
    assert recorder.errors == calls.count(1) > 0
    assert recorder.first_errors[0] == "HttpError: refused"
    assert recorder.elapsed >= 0.2


# --- the SQL generator and the checks after a run -----------------------------------------


def test_generated_rows_must_set_every_column_without_a_default():
    from fenxiao.distribution.models import Commission

    with pytest.raises(ValueError, match=r"Commission\.distributor_id"):
        settlement_bench.insert_select(Commission, {}, "generate_series(1, 1) AS g")


@pytest.mark.django_db
def test_order_check_finds_stock_that_left_without_an_order():
    from fenxiao.catalog.models import Sku
    from fenxiao.orders.services import checkout

    made = fixtures.create(buyers=1, products=2)
    sku_id = made["sku_ids"][0]
    from fenxiao.customers.models import User

    buyer = User.objects.get(phone=made["buyers"][0]["phone"])
    checkout.place_order(buyer, [(sku_id, 2)], address_id=made["buyers"][0]["address_id"])
    clean = fixtures.check_orders(made["sku_ids"])
    assert (clean["units_sold"], clean["skus_oversold_or_mismatched"]) == (2, 0)

    Sku.objects.filter(pk=sku_id).update(stock=fixtures.STOCK - 3)  # one unit gone, no order
    assert fixtures.check_orders(made["sku_ids"])["skus_oversold_or_mismatched"] == 1


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="the generator writes PostgreSQL SQL")
@pytest.mark.django_db
def test_generated_commissions_are_due_and_settle_exactly_once(monkeypatch):
    from fenxiao.distribution.models import Commission, LedgerEntry

    # The scenario fixtures were made by another process, whose factory sequence this
    # process's restarts: nothing generated may collide with them.
    monkeypatch.setattr(testing, "_seq", itertools.count(1))
    for _ in range(3):
        testing.make_buyer()
    for _ in range(3):
        testing.make_product()
    monkeypatch.setattr(testing, "_seq", itertools.count(1))
    made = settlement_bench.generate(30, distributors=4)
    done = settlement_bench.settle()
    checked = settlement_bench.check(made["tag"])
    assert done["settled"] == 30 and done["max_rss_kb"] > 0
    assert checked == {
        "generated": 30,
        "not_settled": 0,
        "ledger_entries_not_exactly_one": 0,
        "distributors_checked": 3,
        "distributors_ledger_mismatch": 0,
        "distributors_totals_mismatch": 0,
    }
    # A ledger entry lost afterwards is caught.
    LedgerEntry.objects.filter(
        commission=Commission.objects.filter(order__number__startswith=made["tag"]).first()
    ).delete()
    broken = settlement_bench.check(made["tag"])
    assert broken["ledger_entries_not_exactly_one"] == 1 and broken["distributors_ledger_mismatch"] == 1
    assert broken["distributors_totals_mismatch"] == 1  # its balance no longer adds up


# --- the flash race ----------------------------------------------------------------------


def test_flash_race_sends_each_buyer_once_and_counts_what_came_back():
    fixture = {"sku_id": 7, "buyers": [{"token": f"t{n}", "address_id": n} for n in range(40)]}
    seen = []

    def handler(method, path, headers, body, number):
        seen.append((headers["authorization"], json.loads(body)["address_id"]))
        if len(seen) == 13:
            return _reply(500, b"boom")
        if len(seen) <= 10:
            return _reply(201, b'{"number": "1"}')
        return _reply(409, b'{"code": "FLASH_SOLD_OUT", "message": "\\u62a2\\u5149"}')

    async def scenario():
        server, port, opened = await _serve(handler)
        async with server:
            return await flash_bench.race("127.0.0.1", port, fixture, connections=6), len(opened)

    raced, connections = run_loop(scenario())
    assert connections == 6
    assert sorted(seen) == sorted((f"Bearer t{n}", n) for n in range(40))
    assert raced.outcomes == {"placed": 10, "FLASH_SOLD_OUT": 29}
    assert raced.recorder.errors == 1 and "HTTP 500" in raced.recorder.first_errors[0]
    assert raced.recorder.count == 39 and len(raced.placed_latencies) == 10
    found = flash_bench.problems(raced, {"quota": 10, **dict.fromkeys(flash_bench.CHECKED, 10)})
    assert found == ["flash race: 1 failed checkouts, e.g. ['HttpError: checkout: HTTP 500 boom']"]


@pytest.mark.django_db
def test_flash_fixture_buyers_can_check_out_and_the_check_sees_what_was_sold():
    from fenxiao.catalog.models import Sku
    from fenxiao.promotions.models import PromotionItem

    made = flash_bench.create(buyers=5, quota=3)
    assert len(made["buyers"]) == 5 and made["quota"] == 3
    replies = [
        testing.ApiClient(b["token"]).post(
            "/checkout", {"lines": [{"sku_id": made["sku_id"], "quantity": 1}], "address_id": b["address_id"]}
        )
        for b in made["buyers"]
    ]
    assert [r.status_code for r in replies] == [201] * 3 + [409] * 2
    assert {r.json()["code"] for r in replies[3:]} == {"FLASH_SOLD_OUT"}
    assert {r.json()["total"] for r in replies[:3]} == {flash_bench.FLASH_PRICE}
    checked = flash_bench.check(sku_id=made["sku_id"], item_id=made["item_id"])
    assert checked == {"quota": 3, "oversold": 0, **dict.fromkeys(flash_bench.CHECKED, 3)}
    raced = flash_bench.RaceResult()
    raced.outcomes.update({"placed": 3, "FLASH_SOLD_OUT": 2})
    assert flash_bench.problems(raced, checked) == []

    # A unit that left the stock without an order, or more sold than the stock, is caught.
    Sku.objects.filter(pk=made["sku_id"]).update(stock=flash_bench.STOCK - 4)
    PromotionItem.objects.filter(pk=made["item_id"]).update(quota=2, sold=2)
    found = flash_bench.problems(raced, flash_bench.check(sku_id=made["sku_id"], item_id=made["item_id"]))
    assert "flash race: 3 orders answered for 2 units" in found
    assert "flash race: stock_taken = 4, not 2" in found
