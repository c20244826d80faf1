"""The order the load bench runs in, and the table it ends with.

1. pgbench on a scratch database: the machine's limit.
2. A fresh, migrated `fenxiao_bench` database with the scenario fixtures; the mall served on
   it (gunicorn + Huey consumer); buyers, then pages, over HTTP; then the database checked.
3. For each settlement size: due commissions generated, settled in a process of its own
   (timed, peak memory), then checked to have settled exactly once.

Correctness checks that fail make the command fail (after the table is written); a missed
target is reported, not raised: the figures depend on the machine.
"""

import asyncio
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from . import pgbench, report, scenarios
from .database import PgServer
from .report import Row, Target, format_table
from .server import MallServer, manage_py, server_env

PARTS = ("pgbench", "http", "settlement")
BENCH_DATABASE = "fenxiao_bench"
HOST = "127.0.0.1"

CHECKOUT_SHARE_OF_TPCB = 0.10
REFERRAL_RPS = 2_000
SETTLED_PER_SECOND = 30_000


@dataclass
class Options:
    duration: float = 30
    page_duration: float = 12
    pgbench_duration: int = 30
    buyers: int = 32
    connections: int = 32
    workers: int = 3
    port: int = 8077
    settle_sizes: list[int] = field(default_factory=lambda: [100_000, 1_000_000])
    pgbench_scale: int = 10
    redis_url: str = ""
    skip: set[str] = field(default_factory=set)


class Step:
    """`manage.py` commands run on the bench database, each in a process of its own."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def manage(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - this interpreter and manage.py
            [*manage_py(), *args],
            env=self.env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise CommandError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def json(self, *args: str) -> dict:
        return json.loads(self.manage("bench_step", *args).strip().splitlines()[-1])


def run(opts: Options, *, write=print) -> list[Row]:
    server = PgServer.from_environment()
    out_dir = Path(settings.VAR_DIR) / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    details: dict = {"options": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(opts).items()}}
    problems: list[str] = []

    limit = None
    if "pgbench" not in opts.skip:
        limit = pgbench.run(
            server, scale=opts.pgbench_scale, clients=8, threads=2, seconds=opts.pgbench_duration, log=write
        )
        details["pgbench"] = vars(limit)
    tpcb = ("pgbench TPC-B TPS", limit.tpcb_tps) if limit else ("", None)
    select = ("pgbench select-only TPS", limit.select_tps) if limit else ("", None)

    huey_path = out_dir / "huey.sqlite3"
    for stale in out_dir.glob("huey.sqlite3*"):
        stale.unlink()
    env = server_env(
        server.url(BENCH_DATABASE),
        site_url=f"http://{HOST}:{opts.port}",
        huey_path=huey_path,
        redis_url=opts.redis_url,
    )
    step = Step(env)
    write(f"bench database {BENCH_DATABASE}: created fresh and migrated…")
    server.recreate(BENCH_DATABASE)
    step.manage("migrate", "--noinput")

    if "http" not in opts.skip:
        rows += _http(opts, step, env, out_dir, tpcb, select, details, problems, write)
    if "settlement" not in opts.skip:
        rows += _settlement(opts, step, tpcb, details, problems, write)

    write("")
    write(format_table(rows))
    json_path, md_path = report.write(rows, out_dir, details=details)
    write(f"\n(kept in {json_path} and {md_path})")
    if problems:
        raise CommandError("correctness checks failed:\n  " + "\n  ".join(problems))
    write("correctness checks: all passed")
    return rows


def _http(opts, step, env, out_dir, tpcb, select, details, problems, write) -> list[Row]:
    fixture = step.json("fixtures", "--buyers", str(opts.buyers))
    step.manage("collectstatic", "--noinput", "--verbosity", "0")  # as `make run` serves them
    code, product = fixture["referral_code"], fixture["product_ids"][0]
    pages = [
        ("product list", f"{scenarios.API}/products?sort=sales", (200,)),
        ("product detail", f"{scenarios.API}/products/{product}", (200,)),
        ("H5 home page", "/", (200,)),
        ("/r/<code>", f"/r/{code}?to=/products/{product}/", (302,)),
    ]
    rows = []
    write(f"serving the mall on http://{HOST}:{opts.port} ({opts.workers} gunicorn workers + Huey consumer)…")
    with MallServer(env, host=HOST, port=opts.port, workers=opts.workers, log_dir=out_dir / "logs"):
        write(f"{opts.buyers} buyers checking out for {opts.duration:g} s…")
        stages = scenarios.Stages()
        bought = asyncio.run(
            scenarios.buyers(HOST, opts.port, fixture, duration=opts.duration, stages=stages)
        )
        details["checkout"] = dict(bought.summary(), stages=stages.summary())
        write(f"checkout stages: {stages.summary()}")
        rows += [
            Row("checkout (orders/s)", bought.rate, *tpcb, target=Target("ratio", CHECKOUT_SHARE_OF_TPCB)),
            Row("checkout iteration p50 (ms)", bought.ms(50)),
            Row("checkout iteration p99 (ms)", bought.ms(99)),
        ]
        if bought.errors:
            problems.append(f"checkout: {bought.errors} failed iterations, e.g. {bought.first_errors[:2]}")
        for name, path, expect in pages:
            before = (
                step.json("touch-hits", "--distributor", str(fixture["distributor_id"]))
                if "/r/" in name
                else None
            )
            write(f"{name}: {opts.connections} connections for {opts.page_duration:g} s…")
            fetched = asyncio.run(
                scenarios.page(
                    HOST,
                    opts.port,
                    path,
                    connections=opts.connections,
                    duration=opts.page_duration,
                    expect=expect,
                )
            )
            details[name] = fetched.summary()
            target = Target("value", REFERRAL_RPS) if "/r/" in name else None
            rows += [
                Row(f"{name} (req/s)", fetched.rate, *select, target=target),
                Row(f"{name} p99 (ms)", fetched.ms(99)),
            ]
            if fetched.errors:
                problems.append(f"{name}: {fetched.errors} failed requests, e.g. {fetched.first_errors[:2]}")
            if before is not None:
                after = step.json("touch-hits", "--distributor", str(fixture["distributor_id"]))
                recorded = after["hits"] - before["hits"]
                details[name]["touches_recorded"] = recorded
                # Each answered visit is counted; one cut off mid-flight may be counted or not.
                if not fetched.count <= recorded <= fetched.count + fetched.errors:
                    problems.append(f"{name}: {fetched.count} visits answered but {recorded} recorded")
    checked = step.json("check-orders", "--skus", ",".join(map(str, fixture["sku_ids"])))
    details["orders_check"] = checked
    if checked["paid_orders"] < bought.count:
        problems.append(
            f"checkout: {bought.count} seen paid but {checked['paid_orders']} paid in the database"
        )
    if checked["paid_without_commission"]:
        problems.append(f"checkout: {checked['paid_without_commission']} paid orders without commission")
    if checked["skus_oversold_or_mismatched"]:
        problems.append(
            f"checkout: {checked['skus_oversold_or_mismatched']} SKUs whose stock does not add up"
        )
    write(f"orders checked: {checked}")
    return rows


def _settlement(opts, step, tpcb, details, problems, write) -> list[Row]:
    rows = []
    for size in opts.settle_sizes:
        write(f"settlement: generating {size:,} frozen due commissions…")
        made = step.json("generate", "--count", str(size))
        write(f"settlement: settling {size:,} (generated in {made['seconds']:.1f} s)…")
        done = step.json("settle")
        checked = step.json("check-settlement", "--tag", made["tag"])
        details[f"settlement {size}"] = {"generated": made, "settled": done, "check": checked}
        rate = done["settled"] / done["seconds"] if done["seconds"] else 0.0
        label = f"settle {size:,}"
        rows += [
            Row(f"{label} (commissions/s)", rate, *tpcb, target=Target("value", SETTLED_PER_SECOND)),
            Row(f"{label} time (s)", done["seconds"]),
            Row(f"{label} peak RSS (MB)", done["max_rss_kb"] / 1024),
        ]
        if done["settled"] != size:
            problems.append(f"{label}: the batch settled {done['settled']:,}, not {size:,}")
        for key in ("not_settled", "ledger_entries_not_exactly_one", "distributors_ledger_mismatch"):
            if checked[key]:
                problems.append(f"{label}: {key.replace('_', ' ')} = {checked[key]}")
        write(f"settlement checked: {checked}")
    return rows
