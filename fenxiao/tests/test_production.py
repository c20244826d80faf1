"""Production starts only with its own secrets, passes Django's deploy checks, and a demo
gets secrets of its own that every process shares. Each start is a fresh process with a
clean environment, as a deployment would run it."""

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(50)


def start(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` as production would run it, plus the given environment."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "FENXIAO_VAR_DIR": str(tmp_path / "var"),
        "ALLOWED_HOSTS": "shop.example.com",
        "SITE_URL": "https://shop.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def print_setting(name: str) -> str:
    return f"from django.conf import settings; print(settings.{name})"


def test_deploy_checks_are_clean_in_production(tmp_path):
    done = start(tmp_path, "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=STRONG_KEY)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "System check identified no issues (1 silenced)." in done.stdout
    assert "WARNINGS" not in done.stderr + done.stdout


def test_production_settings_are_https_only_without_the_sandbox(tmp_path):
    code = "; ".join(
        [
            "from django.conf import settings as s",
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
            " s.SECURE_HSTS_SECONDS, s.PAYMENT_GATEWAYS, s.PAYOUT_ADAPTERS)",
        ]
    )
    done = start(tmp_path, "shell", "-v", "0", "-c", code, SECRET_KEY=STRONG_KEY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True True True 31536000 [] {'wechat': '', 'alipay': ''}"
    # A production start writes no secrets of its own.
    assert not (tmp_path / "var" / "secrets.json").exists()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "SECRET_KEY is not set"),
        ("", "SECRET_KEY is not set"),
        ("fenxiao-insecure-development-key-change-me", "published default value"),
        ("django-insecure-" + "x1y2z3" * 10, "published default value"),
        ("too-short-a-key", "too weak"),
    ],
)
def test_production_refuses_to_start_without_a_real_secret(tmp_path, key, reason):
    env = {} if key is None else {"SECRET_KEY": key}
    done = start(tmp_path, "check", **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert reason in done.stderr
    assert "FENXIAO_DEMO=1" in done.stderr
    assert not (tmp_path / "var" / "secrets.json").exists()


@pytest.mark.parametrize(
    "setting", ["PAYMENT_GATEWAYS", "SMS_GATEWAY", "NOTICE_WECHAT_ADAPTER", "PAYOUT_ALIPAY_ADAPTER"]
)
def test_production_refuses_a_sandbox_adapter(tmp_path, setting):
    done = start(tmp_path, "check", SECRET_KEY=STRONG_KEY, **{setting: "sandbox"})
    assert done.returncode != 0
    assert "only available in demo mode" in done.stderr


def test_demo_generates_private_secrets_once_for_every_process(tmp_path):
    # Four processes start together on a fresh machine, as web workers and the consumer do.
    code = print_setting("SECRET_KEY") + "; " + print_setting("SANDBOX_PAY_SECRET")
    environ = {**os.environ, "FENXIAO_VAR_DIR": str(tmp_path / "var"), "FENXIAO_DEMO": "1"}
    for name in ("SECRET_KEY", "SANDBOX_PAY_SECRET", "DEBUG"):
        environ.pop(name, None)
    starts = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=120) for process in starts]
    assert all(process.returncode == 0 for process in starts), outputs
    printed = {out for out, _ in outputs}
    assert len(printed) == 1

    stored = tmp_path / "var" / "secrets.json"
    values = json.loads(stored.read_text())
    assert printed == {f"{values['SECRET_KEY']}\n{values['SANDBOX_PAY_SECRET']}\n"}
    assert len(values["SECRET_KEY"]) >= 50 and values["SECRET_KEY"] != values["SANDBOX_PAY_SECRET"]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert [p.name for p in stored.parent.iterdir() if p.name.startswith(".secrets-")] == []


def test_a_mistyped_payout_adapter_stops_the_start(tmp_path):
    done = start(tmp_path, "check", SECRET_KEY=STRONG_KEY, PAYOUT_WECHAT_ADAPTER="wechatpay-v3")
    assert done.returncode != 0
    assert "fenxiao.E001" in done.stderr and "PAYOUT_WECHAT_ADAPTER='wechatpay-v3'" in done.stderr
