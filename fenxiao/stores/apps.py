from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "fenxiao.stores"
    label = "stores"
    verbose_name = "门店"

    def ready(self):
        from fenxiao.distribution.services import store_rules

        from . import admin_guides  # noqa: F401 - the store QR / 导购 backend pages
        from .services import rules

        store_rules.register(rules.level1_rates)
