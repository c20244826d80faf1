"""The mall served as `make run` serves it: granian's WSGI workers and the Huey consumer
side by side, on the bench database, started fresh and stopped gracefully."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

# As `make run` serves (the Makefile's WEB_WORKERS / WEB_THREADS): a process per core, at
# least 2 and at most 8, each serving 6 requests at a time.
WEB_THREADS = 6


def default_workers() -> int:
    return min(max(os.cpu_count() or 1, 2), 8)


def manage_py() -> list[str]:
    return [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]


class MallServer:
    def __init__(
        self, env: dict[str, str], *, host: str, port: int, workers: int, threads: int, log_dir: Path
    ):
        self.env, self.host, self.port = env, host, port
        self.workers, self.threads = workers, threads
        self.log_dir = log_dir
        self.web: subprocess.Popen | None = None
        self.huey: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, *, ready_timeout: float = 60) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        granian = str(Path(sys.executable).parent / "granian")
        # Its own session, like `make run`, so only we signal it (a Ctrl-C reaches us first).
        self.huey = subprocess.Popen(  # noqa: S603 - this interpreter and manage.py
            [*manage_py(), "run_huey", "--quiet"],
            env=self.env,
            stdout=open(self.log_dir / "huey.log", "wb"),  # noqa: SIM115 (the child owns it)
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.web = subprocess.Popen(  # noqa: S603 - the venv's granian
            [
                granian,
                "--interface",
                "wsgi",
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--blocking-threads",
                str(self.threads),
                "--workers-kill-timeout",
                "10",
                "fenxiao.wsgi:application",
            ],
            env=self.env,
            cwd=settings.BASE_DIR,
            stdout=open(self.log_dir / "web.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError(
                    f"the web server exited ({self.web.returncode}); see {self.log_dir}/web.log"
                )
            try:
                with urllib.request.urlopen(self.url + "/api/v1/products", timeout=5) as reply:  # noqa: S310
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the mall did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Web first (graceful), then the consumer, which finishes its running tasks."""
        for process, sig, grace in ((self.web, signal.SIGTERM, 15), (self.huey, signal.SIGINT, 30)):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(sig)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def server_env(database_url: str, *, site_url: str, huey_path: Path, redis_url: str = "") -> dict[str, str]:
    """The environment of every process that works on the bench database."""
    env = dict(os.environ, DATABASE_URL=database_url, FENXIAO_DEMO="1", SITE_URL=site_url)
    env.pop("REDIS_URL", None)  # never share a queue with a `make run` on the same Redis
    if redis_url:
        env["REDIS_URL"] = redis_url
    env["HUEY_SQLITE_PATH"] = str(huey_path)
    env.pop("HUEY_IMMEDIATE", None)
    env.pop("DEBUG", None)
    return env
