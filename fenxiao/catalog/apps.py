from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "fenxiao.catalog"
    label = "catalog"
    verbose_name = "商品"

    def ready(self):
        from .services import product_import

        product_import.register()  # the product import as a background job kind
