"""Fixtures shared by the distribution tests."""

import pytest

from fenxiao.testing import make_product

from .backend import boss, staff, world  # noqa: F401 - fixtures of the backend tests
from .helpers import make_distributor


@pytest.fixture
def chain():
    """Two distributors: `a` and `b`, whose parent is `a`."""
    a = make_distributor()
    b = make_distributor(parent=a)
    return a, b


@pytest.fixture
def lamp():
    return make_product("台灯", price=10000)
