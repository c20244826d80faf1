"""The merchant backend for promotions: one module per page group, registered on import."""

from . import buyer_coupons, coupons, groups, product_actions, promotions, push  # noqa: F401
