"""Secrets for a demo or development machine, generated once and kept outside git.

Production passes its secrets in the environment (every web server behind a load balancer
must sign with the same key); a demo or a laptop gets random ones on first start, written
to `var/secrets.json` (mode 0600). The file appears atomically with all its values, so
processes starting together (web workers, the task consumer) all read the same secrets.
"""

import contextlib
import json
import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# What the file holds; each value is generated with `secrets.token_urlsafe`.
GENERATED = ("SECRET_KEY", "SANDBOX_PAY_SECRET")


def _generate() -> dict[str, str]:
    return {name: secrets.token_urlsafe(48) for name in GENERATED}


def load_or_create(path: Path) -> dict[str, str]:
    """The secrets stored at `path`, created there first if it does not exist yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(_generate(), handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            # link() refuses to replace an existing file: when two processes race, the
            # first file in place wins and the other process reads that one.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"Cannot read the generated secrets in {path}: {exc}") from exc
    missing = [name for name in GENERATED if not isinstance(values.get(name), str) or not values[name]]
    if missing:
        raise ImproperlyConfigured(
            f"{path} lacks {', '.join(missing)}; delete the file to generate new secrets "
            "(signed-in sessions end)."
        )
    return values
