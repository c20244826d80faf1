from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class StoresConfig(AppConfig):
    name = "fenxiao.stores"
    label = "stores"
    verbose_name = pgettext_lazy("menu", "门店")

    def ready(self):
        # Stores sit above orders, distribution and customers: checkout reaches pickup and store
        # stock, the commission engine the store-level 导购 rate, and the customer figures the
        # till sales, only through these ports.
        from fenxiao.customers.services import figures, segments, tags
        from fenxiao.distribution.services import store_rules
        from fenxiao.orders.services import stores_port

        from . import (
            admin_guides,  # noqa: F401 - the store QR / 导购 backend pages
            admin_members,  # noqa: F401 - 门店会员
            admin_pos,  # noqa: F401 - the POS keys' backend pages
        )
        from .services import for_orders, pos_sync, rules

        stores_port.register(for_orders)
        store_rules.register(rules.level1_rates, rules.highest_level1_rate)
        # Till sales pushed by a store's POS count like paid orders when figures are rebuilt.
        figures.register_extra_purchases(pos_sync.add_offline_sales_to_figures)
        # …and as bought in the segments that ask what buyers bought.
        segments.register_extra_bought(pos_sync.kept_till_lines)
        tags.register_extra_window_spenders(pos_sync.window_spenders)
