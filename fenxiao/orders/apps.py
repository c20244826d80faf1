from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "fenxiao.orders"
    label = "orders"
    verbose_name = "订单"
