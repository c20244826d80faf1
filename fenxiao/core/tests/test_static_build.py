"""The static files build as production (and `make run`) builds them.

Tests serve static files without the manifest, so a vendored file referring to something
that is not shipped (e.g. a `sourceMappingURL` to a map left out) would pass every other
test and still stop `collectstatic` — and with it `make run` and every deployment.
"""

from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collectstatic_with_the_production_storage(tmp_path):
    with override_settings(STATIC_ROOT=str(tmp_path), STORAGES=PRODUCTION_STATIC):
        call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("catalog/vendor/quill/quill.*.js"))
