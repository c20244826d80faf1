"""`make bench`, the load part: the mall served on PostgreSQL, driven over HTTP, and
settlement at volume, each figure beside pgbench's on the same machine. See README,
"Benchmarks"."""

import os

from django.core.management.base import BaseCommand

from fenxiao.demo.bench import runner, server


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


class Command(BaseCommand):
    help = "Load bench: pgbench, concurrent buyers and pages over HTTP, a flash race, settlement at volume."

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=float, default=30, help="seconds of buying")
        parser.add_argument("--pgbench-duration", type=int, default=30, help="seconds of each pgbench run")
        parser.add_argument("--page-duration", type=float, default=12, help="seconds per page")
        parser.add_argument("--buyers", type=int, default=32)
        parser.add_argument("--connections", type=int, default=32, help="connections per page")
        # `make bench` passes the same WEB_WORKERS / WEB_THREADS that `make run` serves with;
        # run directly, the Makefile's defaults.
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_WORKERS") or server.default_workers())
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("WEB_THREADS") or server.WEB_THREADS)
        )
        parser.add_argument("--port", type=int, default=8077)
        parser.add_argument("--flash-buyers", type=int, default=2000, help="buyers in the flash race")
        parser.add_argument("--flash-stock", type=int, default=100, help="units of flash stock")
        parser.add_argument(
            "--flash-connections", type=int, default=100, help="flash checkouts in flight at once"
        )
        parser.add_argument(
            "--database", default=runner.BENCH_DATABASE, help="the scratch database, recreated on each run"
        )
        parser.add_argument("--settle-sizes", type=_sizes, default=[100_000, 1_000_000])
        parser.add_argument("--pgbench-scale", type=int, default=10)
        parser.add_argument(
            "--redis-url", default="", help="Redis for the bench's cache and queue (optional)"
        )
        parser.add_argument(
            "--skip", action="append", default=[], choices=runner.PARTS, help="leave a part out"
        )

    def handle(self, *args, **options):
        runner.run(
            runner.Options(
                duration=options["duration"],
                page_duration=options["page_duration"],
                pgbench_duration=options["pgbench_duration"],
                buyers=options["buyers"],
                connections=options["connections"],
                workers=options["workers"],
                threads=options["threads"],
                port=options["port"],
                flash_buyers=options["flash_buyers"],
                flash_stock=options["flash_stock"],
                flash_connections=options["flash_connections"],
                database=options["database"],
                settle_sizes=options["settle_sizes"],
                pgbench_scale=options["pgbench_scale"],
                redis_url=options["redis_url"],
                skip=set(options["skip"]),
            ),
            write=self.stdout.write,
        )
