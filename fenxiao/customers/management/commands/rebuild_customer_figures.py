"""Recompute every buyer's figures from their orders, then every automatic tag (repair,
or after loading orders by other means than the order services)."""

from django.core.management.base import BaseCommand

from fenxiao.customers.services import figures, tags


class Command(BaseCommand):
    help = "Rebuild customer figures (paid orders, spend, refunds) and automatic tags, in chunks."

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=figures.CHUNK, help="buyers per transaction")

    def handle(self, *args, chunk, **options):
        if chunk < 1:
            self.stderr.write("--chunk must be at least 1")
            return
        chunks = figures.rebuild(chunk)
        tags.ensure_rule_tags()
        tags.recompute_all(chunk)
        self.stdout.write(f"rebuilt figures and automatic tags in {chunks} chunk(s)")
