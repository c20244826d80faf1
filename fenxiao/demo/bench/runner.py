"""The order the load bench runs in, and the table it ends with.

1. pgbench on a scratch database: the machine's limit.
2. A fresh, migrated `fenxiao_bench` database with the scenario fixtures; the mall served on
   it (granian + Huey consumer); buyers, then pages, over HTTP; then the database checked.
3. The flash race on the same database, the mall served afresh: thousands of buyers check
   out at once for the last units of a flash sale; then exactly those units must be sold.
4. For each settlement size: due commissions generated, settled in a process of its own
   (timed, peak memory), then checked to have settled exactly once.

Correctness checks that fail make the command fail (after the table is written); a missed
target is reported, not raised: the figures depend on the machine.
"""

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from . import cpu, flash_bench, pgbench, report, scenarios
from .database import PgServer
from .loadgen import Recorder
from .report import Row, Target, format_table
from .server import WEB_THREADS, MallServer, default_workers, manage_py, server_env

PARTS = ("pgbench", "http", "flash", "settlement")
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
    workers: int = field(default_factory=default_workers)
    threads: int = WEB_THREADS
    port: int = 8077
    flash_buyers: int = 2000
    flash_stock: int = 100
    flash_connections: int = 100
    database: str = BENCH_DATABASE
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
    return LoadBench(opts, write).run()


class LoadBench:
    """One run: the rows of the table, the details kept beside it, and what failed."""

    def __init__(self, opts: Options, write):
        self.opts, self.write = opts, write
        self.server = PgServer.from_environment()
        self.out_dir = Path(settings.VAR_DIR) / "bench"
        self.rows: list[Row] = []
        self.details: dict = {
            "options": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(opts).items()}
        }
        self.problems: list[str] = []
        self.tpcb: tuple[str, float | None] = ("", None)
        self.select: tuple[str, float | None] = ("", None)
        self.env = server_env(
            self.server.url(opts.database),
            site_url=f"http://{HOST}:{opts.port}",
            huey_path=self.out_dir / "huey.sqlite3",
            redis_url=opts.redis_url,
        )
        self.step = Step(self.env)
        self.groups = cpu.Groups()  # the served mall's processes, once it is served

    def run(self) -> list[Row]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if "pgbench" not in self.opts.skip:
            self.measure_limit()
        self.write(f"bench database {self.opts.database}: created fresh and migrated…")
        self.server.recreate(self.opts.database)
        for stale in self.out_dir.glob("huey.sqlite3*"):
            stale.unlink()
        self.step.manage("migrate", "--noinput")
        if "http" not in self.opts.skip:
            self.drive_over_http()
        if "flash" not in self.opts.skip:
            self.flash_race()
        if "settlement" not in self.opts.skip:
            for size in self.opts.settle_sizes:
                self.settle(size)

        self.write("\n" + format_table(self.rows))
        json_path, md_path = report.write(self.rows, self.out_dir, details=self.details)
        self.write(f"\n(kept in {json_path} and {md_path})")
        if self.problems:
            raise CommandError("correctness checks failed:\n  " + "\n  ".join(self.problems))
        self.write("correctness checks: all passed")
        return self.rows

    def measure_limit(self) -> None:
        limit = pgbench.run(
            self.server,
            scale=self.opts.pgbench_scale,
            clients=8,
            threads=2,
            seconds=self.opts.pgbench_duration,
            log=self.write,
        )
        self.details["pgbench"] = vars(limit)
        self.tpcb = ("pgbench TPC-B TPS", limit.tpcb_tps)
        self.select = ("pgbench select-only TPS", limit.select_tps)

    # --- the mall over HTTP ----------------------------------------------------------------

    def serve(self) -> MallServer:
        """The mall as `make run` serves it (granian + Huey), on the bench's port."""
        opts = self.opts
        return MallServer(
            self.env,
            host=HOST,
            port=opts.port,
            workers=opts.workers,
            threads=opts.threads,
            log_dir=self.out_dir / "logs",
        )

    def drive_over_http(self) -> None:
        opts = self.opts
        fixture = self.step.json("fixtures", "--buyers", str(opts.buyers))
        self.step.manage("collectstatic", "--noinput", "--verbosity", "0")  # as `make run` serves them
        code, product = fixture["referral_code"], fixture["product_ids"][0]
        self.write(
            f"serving the mall on http://{HOST}:{opts.port}: {opts.workers} granian workers × "
            f"{opts.threads} threads, Huey consumer…"
        )
        with self.serve() as server:
            self.groups = cpu.Groups(
                sessions={"web": server.web.pid, "consumer": server.huey.pid},
                names={"PostgreSQL": "postgres"},
                me="load generator",
            )
            bought = self.buyers(fixture)
            self.page("product list", f"{scenarios.API}/products?sort=sales")
            self.page("product detail", f"{scenarios.API}/products/{product}")
            self.page("H5 home page", "/")
            # Where a share link lands: the H5 product page, as a visitor signed out sees it.
            self.page("H5 product page", f"/products/{product}/")
            hits = ("touch-hits", "--distributor", str(fixture["distributor_id"]))
            before = self.step.json(*hits)["hits"]
            visits = self.page(
                "/r/<code>", f"/r/{code}?to=/products/{product}/", expect=(302,), target=REFERRAL_RPS
            )
            # Signed-out visits are written in batches: wait out the last one.
            time.sleep(settings.REFERRAL_VISIT_FLUSH_SECONDS + 1)
            recorded = self.step.json(*hits)["hits"] - before
            self.details["/r/<code>"]["touches_recorded"] = recorded
            # Each answered visit is counted; one cut off mid-flight may be counted or not.
            if not visits.count <= recorded <= visits.count + visits.errors:
                self.problems.append(f"/r/<code>: {visits.count} visits answered but {recorded} recorded")
        self.check_orders(fixture, bought)

    def buyers(self, fixture: dict) -> Recorder:
        opts = self.opts
        self.write(f"{opts.buyers} buyers checking out for {opts.duration:g} s…")
        stages, watch = scenarios.Stages(), cpu.CpuWatch(self.groups)
        bought = asyncio.run(
            scenarios.buyers(HOST, opts.port, fixture, duration=opts.duration, stages=stages, watch=watch)
        )
        spent = watch.per(bought.count)
        self.details["checkout"] = dict(bought.summary(), stages=stages.summary(), cpu_ms_per_purchase=spent)
        self.write(f"checkout stages (p50/p99 ms): {stages.summary()}")
        self.write(f"checkout CPU per purchase (ms): {spent}")
        self.rows += [
            Row(
                "checkout (orders/s)", bought.rate, *self.tpcb, target=Target("ratio", CHECKOUT_SHARE_OF_TPCB)
            ),
            Row("checkout iteration p50 (ms)", bought.ms(50)),
            Row("checkout iteration p99 (ms)", bought.ms(99)),
            *(Row(f"checkout CPU per purchase, {group} (ms)", ms) for group, ms in spent.items()),
        ]
        if bought.errors:
            self.problems.append(
                f"checkout: {bought.errors} failed iterations, e.g. {bought.first_errors[:2]}"
            )
        return bought

    def page(self, name: str, path: str, *, expect=(200,), target: float | None = None) -> Recorder:
        opts = self.opts
        self.write(f"{name}: {opts.connections} connections for {opts.page_duration:g} s…")
        watch = cpu.CpuWatch(self.groups)
        fetched = asyncio.run(
            scenarios.page(
                HOST,
                opts.port,
                path,
                connections=opts.connections,
                duration=opts.page_duration,
                expect=expect,
                watch=watch,
            )
        )
        # Microseconds: a page costs well under a millisecond of some groups' CPU.
        spent = watch.per(fetched.count, unit=1_000_000)
        self.details[name] = dict(fetched.summary(), cpu_us_per_request=spent)
        self.write(f"{name}: CPU per request (µs): {spent}")
        self.rows += [
            Row(
                f"{name} (req/s)",
                fetched.rate,
                *self.select,
                target=Target("value", target) if target else None,
            ),
            Row(f"{name} p99 (ms)", fetched.ms(99)),
        ]
        if fetched.errors:
            self.problems.append(f"{name}: {fetched.errors} failed requests, e.g. {fetched.first_errors[:2]}")
        return fetched

    def check_orders(self, fixture: dict, bought: Recorder) -> None:
        checked = self.step.json("check-orders", "--skus", ",".join(map(str, fixture["sku_ids"])))
        self.details["orders_check"] = checked
        self.write(f"orders checked: {checked}")
        if checked["paid_orders"] < bought.count:
            self.problems.append(
                f"checkout: {bought.count} seen paid, {checked['paid_orders']} paid in the database"
            )
        if checked["paid_without_commission"]:
            self.problems.append(
                f"checkout: {checked['paid_without_commission']} paid orders without commission"
            )
        if checked["skus_oversold_or_mismatched"]:
            self.problems.append(
                f"checkout: stock does not add up on {checked['skus_oversold_or_mismatched']} SKUs"
            )

    # --- the flash race --------------------------------------------------------------------------

    def flash_race(self) -> None:
        opts = self.opts
        fixture = self.step.json(
            "flash-fixtures", "--buyers", str(opts.flash_buyers), "--quota", str(opts.flash_stock)
        )
        self.write(
            f"flash race: {opts.flash_buyers:,} buyers for {opts.flash_stock:,} units, "
            f"{opts.flash_connections} checkouts in flight…"
        )
        with self.serve():
            raced = asyncio.run(
                flash_bench.race(HOST, opts.port, fixture, connections=opts.flash_connections)
            )
        checked = self.step.json(
            "flash-check", "--sku", str(fixture["sku_id"]), "--item", str(fixture["item_id"])
        )
        self.details["flash race"] = dict(raced.summary(), check=checked)
        self.write(f"flash race: {dict(raced.outcomes)}; checked: {checked}")
        checkouts = raced.recorder
        self.rows += [
            Row(
                f"flash race: orders created ({opts.flash_buyers:,} buyers, {opts.flash_stock:,} units)",
                raced.placed,
            ),
            Row("flash race checkouts/s", checkouts.rate, *self.tpcb),
            Row("flash race checkout p50 (ms)", checkouts.ms(50)),
            Row("flash race checkout p99 (ms)", checkouts.ms(99)),
        ]
        self.problems += flash_bench.problems(raced, checked)

    # --- settlement at volume ----------------------------------------------------------------

    def settle(self, size: int) -> None:
        self.write(f"settlement: generating {size:,} frozen due commissions…")
        made = self.step.json("generate", "--count", str(size))
        self.write(f"settlement: settling {size:,} (generated in {made['seconds']:.1f} s)…")
        done = self.step.json("settle")
        checked = self.step.json("check-settlement", "--tag", made["tag"])
        self.details[f"settlement {size}"] = {"generated": made, "settled": done, "check": checked}
        self.write(f"settlement checked: {checked}")
        rate = done["settled"] / done["seconds"] if done["seconds"] else 0.0
        label = f"settle {size:,}"
        self.rows += [
            Row(f"{label} (commissions/s)", rate, *self.tpcb, target=Target("value", SETTLED_PER_SECOND)),
            Row(f"{label} time (s)", done["seconds"]),
            Row(f"{label} peak RSS (MB)", done["max_rss_kb"] / 1024),
        ]
        if done["settled"] != size:
            self.problems.append(f"{label}: the batch settled {done['settled']:,}, not {size:,}")
        for key in (
            "not_settled",
            "ledger_entries_not_exactly_one",
            "distributors_ledger_mismatch",
            "distributors_totals_mismatch",
        ):
            if checked[key]:
                self.problems.append(f"{label}: {key.replace('_', ' ')} = {checked[key]}")
