"""Fixtures shared by the order tests."""

from .bad_input import shop  # noqa: F401 - the bad-input tests' shop
