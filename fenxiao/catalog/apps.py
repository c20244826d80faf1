from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "fenxiao.catalog"
    label = "catalog"
    verbose_name = "商品"
