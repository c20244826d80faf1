"""The merchant backend for promotions: one module per page group, registered on import."""

from . import coupons, groups, promotions, push  # noqa: F401
