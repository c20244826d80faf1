"""Fixtures shared by the order tests."""

import pytest

from .backend import boss  # noqa: F401 - the backend tests' signed-in superuser
from .bad_input import shop  # noqa: F401 - the bad-input tests' shop
from .logistics_helpers import pushes_in_process  # noqa: F401 - the sandbox tracking pushes in-process


@pytest.fixture
def media_in_tmp(settings, tmp_path):
    """Uploaded photos go under `tmp_path`: public media in tmp_path/media, the private
    store (after-sale evidence) in tmp_path itself."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
