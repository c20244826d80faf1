"""`make bench` (reports part): a year of aggregates worth 1,000,000 orders on PostgreSQL,
then the dashboard and each 30-day report timed. All generated rows are rolled back."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from fenxiao.demo.bench import reports_bench

TARGET_MS = 1000


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time the dashboard and each report over aggregates worth 1,000,000 orders (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument(
            "--rebuild-orders",
            type=int,
            default=100_000,
            help="raw orders whose day is rebuilt, timed (0: skip)",
        )
        parser.add_argument("--reuse", action="store_true", help="time what an earlier --keep run left")
        parser.add_argument(
            "--keep", action="store_true", help="commit the generated rows (scratch database)"
        )

    def handle(self, *args, orders, runs, reuse, keep, rebuild_orders, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("reports bench skipped: it runs on PostgreSQL (set DATABASE_URL)")
            return
        try:
            with transaction.atomic():
                if not reuse:
                    made = reports_bench.generate(orders)
                    self.stdout.write(f"generated in {made['seconds']} s: {made['rows']}")
                for row in reports_bench.time_pages(runs):
                    verdict = "ok" if row["median_ms"] < TARGET_MS else "SLOW"
                    self.stdout.write(
                        f"{row['label']:<30} first {row['cold_ms']:8.1f} ms, then {row['median_ms']:7.1f} ms"
                        f"  {row['queries']:3d} queries  (target < {TARGET_MS} ms: {verdict})"
                    )
                if rebuild_orders:
                    done = reports_bench.time_rebuild(rebuild_orders)
                    verdict = "ok" if done["paid_orders_counted"] >= rebuild_orders else "WRONG COUNT"
                    self.stdout.write(f"rebuild of a day of {rebuild_orders:,} orders: {done} ({verdict})")
                if not keep:
                    raise Rollback
        except Rollback:
            self.stdout.write("(all benchmark data rolled back)")
