from datetime import date

from django.core.management.base import BaseCommand, CommandError

from fenxiao.analytics.services import aggregates


class Command(BaseCommand):
    help = "Recompute the report aggregates of a range of days from raw rows (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--end", required=True, help="YYYY-MM-DD")

    def handle(self, *args, **options):
        try:
            first, last = date.fromisoformat(options["start"]), date.fromisoformat(options["end"])
        except ValueError:
            raise CommandError("dates must be YYYY-MM-DD") from None
        if last < first:
            raise CommandError("--end is before --start")
        days = aggregates.rebuild(first, last)
        self.stdout.write(f"rebuilt {days} day(s) {first} .. {last}")
