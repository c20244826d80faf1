"""Settings for a Huey consumer started by `test_worker_killed`: the project's settings,
with a sandbox gateway that answers late, so the test can stop the worker mid-call."""

from fenxiao.settings import *  # noqa: F403

SANDBOX_GATEWAY_DELAY_SECONDS = 60
