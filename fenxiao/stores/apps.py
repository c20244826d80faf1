from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "fenxiao.stores"
    label = "stores"
    verbose_name = "门店"

    def ready(self):
        # Stores sit above orders: checkout reaches pickup and store stock only through this.
        from fenxiao.customers.services import figures, tags
        from fenxiao.orders.services import stores_port

        from . import admin_pos  # noqa: F401 - the POS keys' backend pages (the stores admin is separate)
        from .services import for_orders, pos_sync

        stores_port.register(for_orders)
        # Till sales pushed by a store's POS count like paid orders when figures are rebuilt.
        figures.register_extra_purchases(pos_sync.add_offline_sales_to_figures)
        tags.register_extra_window_spenders(pos_sync.window_spenders)
