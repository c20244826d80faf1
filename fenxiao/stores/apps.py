from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "fenxiao.stores"
    label = "stores"
    verbose_name = "门店"

    def ready(self):
        # Stores sit above orders: checkout reaches pickup and store stock only through this.
        from fenxiao.orders.services import stores_port

        from .services import for_orders

        stores_port.register(for_orders)
