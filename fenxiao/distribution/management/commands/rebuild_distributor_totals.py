"""Recompute distributors' running dashboard totals from their history (repair)."""

from django.core.management.base import BaseCommand

from fenxiao.distribution.services import totals


class Command(BaseCommand):
    help = "Recompute every distributor's running totals (or those given) from history."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="distributor ids (default: all)")
        parser.add_argument("--check", action="store_true", help="only report rows that differ from history")

    def handle(self, *args, ids, check, **options):
        if check:
            wrong = totals.mismatches(ids or None)
            for pk, diff in sorted(wrong.items()):
                self.stdout.write(
                    f"distributor {pk}: " + ", ".join(f"{f} {a} ≠ {b}" for f, (a, b) in diff.items())
                )
            self.stdout.write(f"{len(wrong)} distributor(s) differ from history")
            return
        written = totals.rebuild(ids or None)
        self.stdout.write(f"rebuilt {written} distributor(s)")
