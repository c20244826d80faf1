from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "fenxiao.stores"
    label = "stores"
    verbose_name = "门店"

    def ready(self):
        # Stores sit above orders and distribution: checkout reaches pickup and store stock, and
        # the commission engine the store-level 导购 rate, only through these ports.
        from fenxiao.distribution.services import store_rules
        from fenxiao.orders.services import stores_port

        from . import admin_guides  # noqa: F401 - the store QR / 导购 backend pages
        from .services import for_orders, rules

        stores_port.register(for_orders)
        store_rules.register(rules.level1_rates)
