"""The merchant backend for orders: one module per use case, registered on import."""

from . import after_sales, orders, reviews, settings, shipping  # noqa: F401
