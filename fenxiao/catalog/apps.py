from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class CatalogConfig(AppConfig):
    name = "fenxiao.catalog"
    label = "catalog"
    verbose_name = pgettext_lazy("menu", "商品")

    def ready(self):
        from .services import product_import

        product_import.register()  # the product import as a background job kind
