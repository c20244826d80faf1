"""Fixtures shared by the order tests."""

from .backend import boss  # noqa: F401 - the backend tests' signed-in superuser
from .bad_input import shop  # noqa: F401 - the bad-input tests' shop
from .logistics_helpers import pushes_in_process  # noqa: F401 - the sandbox tracking pushes in-process
