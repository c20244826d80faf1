"""`make bench`: time the hot paths on generated data, then roll everything back.

Timing targets live here, not in the test suite, where a busy CI machine would make them
flaky. Each figure is the median of several runs, with its query count.
"""

import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao import testing
from fenxiao.demo.bench import tracking_bench


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark product list, product page, checkout, payment, dashboard and settlement."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument("--runs", type=int, default=15)

    def handle(self, *args, products, runs, **options):
        try:
            with transaction.atomic(), tracking_bench.inline_writes():
                self._run(products, runs)
                raise Rollback
        except Rollback:
            self.stdout.write("(all benchmark data rolled back)")

    def _measure(self, label, runs, fn, budget_ms):
        timings, queries = [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                fn()
                timings.append((time.perf_counter() - start) * 1000)
            queries = len(captured.captured_queries)
        median = statistics.median(timings)
        verdict = "ok" if median <= budget_ms else "SLOW"
        self.stdout.write(
            f"{label:<44} {median:8.1f} ms  {queries:3d} queries  (target ≤ {budget_ms} ms: {verdict})"
        )

    def _run(self, product_count, runs):
        from fenxiao.distribution.services import distributors
        from fenxiao.orders.services import checkout

        category = testing.make_category("基准")
        items = [
            testing.make_product(
                f"基准商品{i}",
                category=category,
                stock=100000,
                specs_list=[{"规格": str(n)} for n in range(3)],
            )
            for i in range(product_count)
        ]
        buyer = testing.make_buyer()
        address = testing.make_address(buyer)
        distributor = distributors.designate(testing.make_buyer(), testing.make_staff())
        client = Client()
        skus = [p.skus.first() for p in items[:20]]
        self.stdout.write(f"{product_count} products, {runs} runs each\n")
        self._measure(
            "GET /api/v1/products (page of 20)", runs, lambda: client.get("/api/v1/products?sort=sales"), 50
        )
        self._measure(
            "GET /api/v1/products/{id}", runs, lambda: client.get(f"/api/v1/products/{items[0].pk}"), 30
        )
        self._measure("H5 home page", runs, lambda: client.get("/"), 60)
        tracking_bench.measure(self.stdout.write, items[0], buyer)
        self._measure(
            "checkout, 1 line",
            runs,
            lambda: checkout.place_order(buyer, [(skus[0].pk, 1)], address_id=address.pk),
            60,
        )
        self._measure(
            "checkout, 20 lines",
            runs,
            lambda: checkout.place_order(buyer, [(s.pk, 1) for s in skus], address_id=address.pk),
            100,
        )
        api = testing.api_for(distributor.user)
        self._measure(
            "GET /api/v1/distribution/dashboard", runs, lambda: api.get("/distribution/dashboard"), 40
        )
