from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class PromotionsConfig(AppConfig):
    name = "fenxiao.promotions"
    label = "promotions"
    verbose_name = pgettext_lazy("menu", "营销活动")

    def ready(self):
        # Promotions sit above orders: checkout reaches the pricing engine only through this.
        from fenxiao.orders.services import promotions_port

        from .services import for_orders

        promotions_port.register(for_orders)
