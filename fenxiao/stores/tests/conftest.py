"""Fixtures of the POS sync API tests: a store and its signed till."""

import pytest

from .pos_till import Till, make_store


@pytest.fixture
def store(db):
    return make_store()


@pytest.fixture
def till(store):
    return Till(store)
