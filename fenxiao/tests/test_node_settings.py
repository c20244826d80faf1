"""What a node takes from its environment to run beside others: media storage, sessions and
attempt counters in shared storage, persistent database connections, and a warning when a
secret would differ from node to node. Each start is a fresh process, as a node's is."""

import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY = "django.core.files.storage.InMemoryStorage"
REDIS = "redis://127.0.0.1:6379/15"  # never connected to: these starts only read settings


def settings_of(tmp_path, code: str | None, **env: str) -> subprocess.CompletedProcess:
    environ = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FENXIAO_DEMO": "1",
        "FENXIAO_VAR_DIR": str(tmp_path / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *(["shell", "-v", "0", "-c", code] if code else ["check"])],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_media_storage_is_chosen_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings as s; from django.core.files.storage import default_storage as d; "
        "print(s.SERVE_MEDIA, type(d._wrapped if d._setup() is None else d).__name__, d.location)"
    )
    done = settings_of(
        tmp_path,
        code,
        MEDIA_STORAGE="django.core.files.storage.FileSystemStorage",
        MEDIA_STORAGE_OPTIONS='{"location": "/srv/shared-media"}',
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "FileSystemStorage", "/srv/shared-media"]

    default = settings_of(tmp_path, code)
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == ["True", "FileSystemStorage", str(tmp_path / "var" / "media")]

    broken = settings_of(tmp_path, None, MEDIA_STORAGE=MEMORY, MEDIA_STORAGE_OPTIONS="{bucket")
    assert broken.returncode != 0
    assert "MEDIA_STORAGE_OPTIONS is not valid JSON" in broken.stderr


def test_the_job_and_private_stores_are_chosen_from_the_environment(tmp_path):
    code = "from django.conf import settings as s; print(s.STORAGES['jobs'], s.STORAGES['private'], sep='|')"
    shared = settings_of(
        tmp_path,
        code,
        PRIVATE_STORAGE=MEMORY,
        PRIVATE_STORAGE_OPTIONS='{"base_url": "/x/"}',
        JOB_STORAGE=MEMORY,
    )
    assert shared.returncode == 0, shared.stderr
    jobs, private = shared.stdout.strip().split("|")
    assert jobs == str({"BACKEND": MEMORY, "OPTIONS": {}})
    assert private == str({"BACKEND": MEMORY, "OPTIONS": {"base_url": "/x/"}})
    local = settings_of(tmp_path, code)
    assert local.stdout.strip().split("|") == [
        str(
            {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "var" / k)},
            }
        )
        for k in ("jobs", "private")
    ]
    broken = settings_of(tmp_path, None, PRIVATE_STORAGE=MEMORY, PRIVATE_STORAGE_OPTIONS="{bucket")
    assert broken.returncode != 0 and "PRIVATE_STORAGE_OPTIONS is not valid JSON" in broken.stderr
    # Shared media with the private store on one machine's disk is warned about.
    warned = settings_of(tmp_path, None, MEDIA_STORAGE=MEMORY)
    assert warned.returncode == 0 and "fenxiao.W002" in warned.stderr + warned.stdout
    both = settings_of(tmp_path, None, MEDIA_STORAGE=MEMORY, PRIVATE_STORAGE=MEMORY)
    assert "fenxiao.W002" not in both.stderr + both.stdout


def test_with_redis_sessions_and_attempt_counters_are_shared(tmp_path):
    code = "from django.conf import settings as s; print(s.SESSION_ENGINE, s.RATE_LIMIT_CACHE or '-')"
    alone = settings_of(tmp_path, code)
    assert alone.stdout.split() == ["django.contrib.sessions.backends.db", "-"], alone.stderr
    shared = settings_of(tmp_path, code, REDIS_URL=REDIS)
    assert shared.stdout.split() == ["django.contrib.sessions.backends.cached_db", "default"], shared.stderr


def test_postgresql_connections_persist_and_are_health_checked(tmp_path):
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    url = "postgres://fenxiao@127.0.0.1:5432/fenxiao"
    assert settings_of(tmp_path, code, DATABASE_URL=url).stdout.split() == ["60", "True"]
    assert settings_of(tmp_path, code, DATABASE_URL=url, DB_CONN_MAX_AGE="0").stdout.split() == ["0", "True"]


def test_a_node_sharing_redis_warns_about_secrets_of_its_own(tmp_path):
    warned = settings_of(tmp_path, None, REDIS_URL=REDIS)
    assert warned.returncode == 0, warned.stderr
    assert "fenxiao.W001" in warned.stderr + warned.stdout
    assert "SECRET_KEY, SANDBOX_PAY_SECRET generated" in warned.stderr + warned.stdout

    given = settings_of(
        tmp_path,
        None,
        REDIS_URL=REDIS,
        SECRET_KEY=secrets.token_urlsafe(50),
        SANDBOX_PAY_SECRET=secrets.token_urlsafe(32),
    )
    assert given.returncode == 0, given.stderr
    assert "fenxiao.W001" not in given.stderr + given.stdout
    assert "fenxiao.W001" not in settings_of(tmp_path, None).stderr  # one machine: nothing to share
