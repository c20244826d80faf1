"""One step of `manage.py bench_load`, run in a process of its own on the bench database
(`DATABASE_URL` points at it). Prints its result as one JSON line."""

import json

from django.core.management.base import BaseCommand, CommandError

from fenxiao.demo.bench import fixtures, flash_bench, settlement_bench


class Command(BaseCommand):
    help = "Internal: a step of the load bench (fixtures, checks, flash race, settlement), as JSON."

    def add_arguments(self, parser):
        steps = parser.add_subparsers(dest="step", required=True)
        made = steps.add_parser("fixtures")
        made.add_argument("--buyers", type=int, required=True)
        made.add_argument("--products", type=int, default=50)
        steps.add_parser("touch-hits").add_argument("--distributor", type=int, required=True)
        steps.add_parser("check-orders").add_argument("--skus", required=True, help="comma-separated")
        flash = steps.add_parser("flash-fixtures")
        flash.add_argument("--buyers", type=int, required=True)
        flash.add_argument("--quota", type=int, required=True)
        checked = steps.add_parser("flash-check")
        checked.add_argument("--sku", type=int, required=True)
        checked.add_argument("--item", type=int, required=True)
        steps.add_parser("generate").add_argument("--count", type=int, required=True)
        steps.add_parser("settle")
        steps.add_parser("check-settlement").add_argument("--tag", required=True)

    def handle(self, *args, step, **options):
        from django.conf import settings

        if not settings.IS_POSTGRES:
            raise CommandError("the load bench runs on PostgreSQL (DATABASE_URL)")
        if step == "fixtures":
            result = fixtures.create(buyers=options["buyers"], products=options["products"])
        elif step == "touch-hits":
            result = {"hits": fixtures.touch_hits(options["distributor"])}
        elif step == "check-orders":
            result = fixtures.check_orders([int(pk) for pk in options["skus"].split(",")])
        elif step == "flash-fixtures":
            result = flash_bench.create(buyers=options["buyers"], quota=options["quota"])
        elif step == "flash-check":
            result = flash_bench.check(sku_id=options["sku"], item_id=options["item"])
        elif step == "generate":
            result = settlement_bench.generate(options["count"])
        elif step == "settle":
            result = settlement_bench.settle()
        else:
            result = settlement_bench.check(options["tag"])
        self.stdout.write(json.dumps(result))
