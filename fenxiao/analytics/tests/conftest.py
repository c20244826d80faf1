import pytest

from fenxiao.analytics.services import tracking


@pytest.fixture(autouse=True)
def _fresh_traffic_buffer():
    """Each test starts with nothing pending in this process's traffic buffer."""
    tracking.batch.reset()
    yield
    tracking.batch.reset()
