"""Fenxiao settings. Everything that differs between machines comes from the environment."""

import json
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from fenxiao.backend_nav import unfold_settings
from fenxiao.core.local_secrets import load_or_create

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FENXIAO_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Under pytest, background tasks run inline where they are enqueued and static files are
# served without a collectstatic manifest.
TESTING = "pytest" in sys.modules
# Demo mode turns on the sandbox payment gateway, whose cashier page "pays" without money,
# and lets `load_demo` create accounts with published passwords. `make run` asks for it
# (FENXIAO_DEMO=1); the test suite runs in it.
DEMO_MODE = env_bool("FENXIAO_DEMO", TESTING)
# Production is everything else: it must be given its secrets and is served over HTTPS.
PRODUCTION = not (DEBUG or DEMO_MODE)

# Values published in this repository's history or in Django's templates: never valid.
KNOWN_SECRET_KEYS = {"fenxiao-insecure-development-key-change-me", "change-me", "changeme", "secret"}


def production_secret_key(value: str) -> str:
    """The SECRET_KEY production may start with, or ImproperlyConfigured saying what is wrong."""
    advice = (
        "Set SECRET_KEY in the environment to a long random value, e.g. the output of "
        "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`, the same on every "
        "web server and task worker. For a demo or local development set FENXIAO_DEMO=1 "
        "(or DEBUG=1) instead: a random key is then generated in var/secrets.json."
    )
    if not value:
        raise ImproperlyConfigured(f"SECRET_KEY is not set and this is a production start. {advice}")
    if value in KNOWN_SECRET_KEYS or value.startswith("django-insecure"):
        raise ImproperlyConfigured(f"SECRET_KEY is a published default value. {advice}")
    if len(value) < 50 or len(set(value)) < 5:
        raise ImproperlyConfigured(f"SECRET_KEY is too weak (50 or more varied characters). {advice}")
    return value


_env_secrets = {name: os.environ.get(name, "") for name in ("SECRET_KEY", "SANDBOX_PAY_SECRET")}
# Secrets read from this machine's var/secrets.json (demo/debug only): another node would
# generate different ones, so several nodes must all be given them in the environment
# (a system check warns when REDIS_URL says nodes are shared and a secret is local).
LOCAL_SECRETS: list[str] = []
if PRODUCTION:
    SECRET_KEY = production_secret_key(_env_secrets["SECRET_KEY"])
    # Only the sandbox gateway uses it, and production never enables the sandbox.
    SANDBOX_PAY_SECRET = _env_secrets["SANDBOX_PAY_SECRET"]
else:
    if not all(_env_secrets.values()):
        _generated = load_or_create(VAR_DIR / "secrets.json")
        LOCAL_SECRETS = [name for name, value in _env_secrets.items() if not value]
        _env_secrets = {name: value or _generated[name] for name, value in _env_secrets.items()}
    SECRET_KEY = _env_secrets["SECRET_KEY"]
    # Shared secret between the mall and the sandbox gateway; real gateways use their own keys.
    SANDBOX_PAY_SECRET = _env_secrets["SANDBOX_PAY_SECRET"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")
# The public address of the mall, used in payment notify URLs, referral links and QR codes.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "huey.contrib.djhuey",
    # Only for its templates and static files: /api/docs loads Swagger UI from this server.
    "ninja",
    "fenxiao.core",
    "fenxiao.customers",
    # Messages sit low: orders, payments and distribution call them; they import none.
    "fenxiao.notices",
    # Webhooks: as low as notices (orders, payments and distribution emit events).
    "fenxiao.webhooks",
    # Carriers, shipping-fee templates and regions: products and orders use them.
    "fenxiao.shipping",
    "fenxiao.catalog",
    "fenxiao.orders",
    "fenxiao.payments",
    "fenxiao.distribution",
    "fenxiao.promotions",
    # Offline stores, pickup, store QR and POS: above orders (reached through their port).
    "fenxiao.stores",
    "fenxiao.analytics",
    "fenxiao.storefront",
    # Quick-setup templates and the first-run wizard: configure the apps below it.
    "fenxiao.shopsetup",
    # Demo shop and benchmarks: on top of every app, imported by none.
    "fenxiao.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fenxiao.core.middleware.LanguageMiddleware",
    "fenxiao.core.middleware.BadInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fenxiao.analytics.middleware.TrafficMiddleware",
    "fenxiao.distribution.middleware.ShareLinkMiddleware",
]

ROOT_URLCONF = "fenxiao.urls"
CSRF_FAILURE_VIEW = "fenxiao.core.error_pages.csrf_failure"
WSGI_APPLICATION = "fenxiao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fenxiao" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    # Persistent connections: each web thread and task worker keeps its connection for
    # DB_CONN_MAX_AGE seconds instead of opening one per request (a TLS handshake and a
    # backend fork on PostgreSQL); the health check drops one the server closed meanwhile.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("TEST_DATABASE_NAME", "test_fenxiao")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "fenxiao.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock when a transaction starts, so two writers
                # queue up instead of failing with "database is locked" on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"),
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions: shared storage so any number of web processes can run -------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "fenxiao_cache"}
    }
# With Redis, sessions are written through to the database and read from Redis: every web
# process sees a sign-in at once, a request reads its session without a database query, and
# a Redis restart or eviction signs nobody out (the database copy is read back). Without
# Redis the database holds them. Either way any web process can serve any request.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
)
# Login, registration and SMS attempt counters (customers/services/limits.py): in the
# shared Redis cache when there is one (no database write per attempt), otherwise one
# atomic upsert per attempt in the database. Both hold across any number of processes.
# Under pytest they stay in the database (each test's rows roll back; Redis would carry one
# test's counts into the next); tests of the Redis store point them at a cache themselves.
RATE_LIMIT_CACHE = "default" if REDIS_URL and not TESTING else ""

# --- Background jobs ----------------------------------------------------------------------
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", TESTING)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "fenxiao",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "fenxiao",
        "filename": os.environ.get("HUEY_SQLITE_PATH", str(VAR_DIR / "huey.sqlite3")),
        "immediate": HUEY_IMMEDIATE,
        "utc": False,
    }
# Signed-out referral visits are counted in memory and written together at most this many
# seconds later (see distribution/services/visits.py); 0 writes each visit at once.
REFERRAL_VISIT_FLUSH_SECONDS = float(os.environ.get("REFERRAL_VISIT_FLUSH_SECONDS", 0 if TESTING else 1))
# The H5 home page's shop window is rendered once per web process and served again for at
# most this many seconds, never past a flash offer's start or end (storefront/views/window.py);
# 0 renders it on every request.
STOREFRONT_WINDOW_SECONDS = float(os.environ.get("STOREFRONT_WINDOW_SECONDS", 0 if TESTING else 10))
# Traffic (page views, product views, cart adds; analytics/services/tracking.py) likewise.
TRAFFIC_TRACKING = env_bool("TRAFFIC_TRACKING", True)
TRAFFIC_FLUSH_SECONDS = float(os.environ.get("TRAFFIC_FLUSH_SECONDS", 0 if TESTING else 1))
# Chunks one settlement run settles at once on PostgreSQL, each on its own connection (one
# per core measured best). The suite runs one, so a test that stops a run at a chunk stops
# all of it; the parallel run has tests of its own.
SETTLEMENT_WORKERS = int(os.environ.get("SETTLEMENT_WORKERS", 1 if TESTING else min(os.cpu_count() or 1, 4)))
# Threads: the tasks wait on gateways and the network (payouts, refunds, notifications,
# webhooks). Each paid order queues three tasks, one of which waits on an HTTP round trip:
# with 4 threads under 32 buyers the queue itself held a payment's confirmation 1.4 s
# (the threads busy 85 % of the time), with 8 it is picked up within 0.1 s. A thread that
# waits costs no CPU, only its database connection.
# An idle worker polls the SQLite queue less and less often, up to `max_delay` seconds apart
# (Redis blocks instead): Huey's 10 s default would leave the first payment after a quiet
# spell waiting that long for its notification, the buyer watching "支付确认中".
HUEY["consumer"] = {
    "workers": int(os.environ.get("HUEY_WORKERS", "8")),
    "worker_type": "thread",
    "periodic": True,
    "max_delay": float(os.environ.get("HUEY_MAX_POLL_SECONDS", "1")),
}

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "customers.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Tests create hundreds of users; PBKDF2 at production strength costs ~0.4 s each.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/login/"
# Only the backend's login form relies on this (the H5 login redirects itself).
LOGIN_REDIRECT_URL = "/backend/"
# Where the client's address is read for login rate limits; behind a reverse proxy set it to
# the header the proxy writes, e.g. HTTP_X_REAL_IP.
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "REMOTE_ADDR")
# With CLIENT_IP_HEADER=HTTP_X_FORWARDED_FOR: how many proxies of ours append to it (a CDN in
# front of nginx is 2); the client is that many entries from the right.
CLIENT_IP_PROXY_COUNT = max(int(os.environ.get("CLIENT_IP_PROXY_COUNT", "1")), 1)
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900"))
# Registration attempts per client address and window (bounds phone-number probing).
REGISTER_LIMIT_PER_ADDRESS = int(os.environ.get("REGISTER_LIMIT_PER_ADDRESS", "10"))
REGISTER_WINDOW_SECONDS = int(os.environ.get("REGISTER_WINDOW_SECONDS", "3600"))
# Registration codes by SMS. Limits per phone number (one a minute, a daily cap) and per client
# address (per SMS_CODE_ADDRESS_WINDOW_SECONDS); the same answer for new and registered numbers.
# An API token (apps, mini-programs) unused this many days stops working and is deleted
# nightly; each use within the window keeps it alive.
API_TOKEN_IDLE_DAYS = max(int(os.environ.get("API_TOKEN_IDLE_DAYS", "30")), 1)
SMS_CODE_TTL_SECONDS = 600
SMS_CODE_MAX_ATTEMPTS = 5
SMS_CODE_PHONE_INTERVAL_SECONDS = int(os.environ.get("SMS_CODE_PHONE_INTERVAL_SECONDS", "60"))
SMS_CODE_PHONE_DAILY_LIMIT = int(os.environ.get("SMS_CODE_PHONE_DAILY_LIMIT", "10"))
SMS_CODE_LIMIT_PER_ADDRESS = int(os.environ.get("SMS_CODE_LIMIT_PER_ADDRESS", "20"))
SMS_CODE_ADDRESS_WINDOW_SECONDS = int(os.environ.get("SMS_CODE_ADDRESS_WINDOW_SECONDS", "3600"))

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The visitor's choice of language outlives the browser session (pages follow only it).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [BASE_DIR / "fenxiao" / "locale"]
# 2026-12-04 16:30 wherever a page leaves the format to Django, in either language.
FORMAT_MODULE_PATH = ["fenxiao.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Uploaded media (product images, banners) goes through Django's storage API only. Several
# web nodes need one shared store: MEDIA_STORAGE names a storage class and
# MEDIA_STORAGE_OPTIONS its options as JSON, e.g. django-storages' S3 backend for any
# S3-compatible store (see README, "Running several nodes").
MEDIA_STORAGE = os.environ.get("MEDIA_STORAGE", "").strip()
try:
    MEDIA_STORAGE_OPTIONS = json.loads(os.environ.get("MEDIA_STORAGE_OPTIONS", "").strip() or "{}")
except json.JSONDecodeError as exc:
    raise ImproperlyConfigured(f"MEDIA_STORAGE_OPTIONS is not valid JSON: {exc}") from exc
if not isinstance(MEDIA_STORAGE_OPTIONS, dict):
    raise ImproperlyConfigured("MEDIA_STORAGE_OPTIONS must be a JSON object of the storage's options.")
# Local media is served by the app itself; media in another store is served from there.
SERVE_MEDIA = env_bool("SERVE_MEDIA", not MEDIA_STORAGE)
STORAGES = {
    "default": {
        "BACKEND": MEDIA_STORAGE or "django.core.files.storage.FileSystemStorage",
        "OPTIONS": MEDIA_STORAGE_OPTIONS,
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}


def private_storage(name: str, location: Path) -> dict:
    """A private store's STORAGES entry: the storage class named by the environment variable
    `name` with its options as JSON in `<name>_OPTIONS` (e.g. an S3 backend on a bucket that
    is not public, which several nodes need to share), else the local disk at `location`."""
    backend = os.environ.get(name, "").strip()
    try:
        options = json.loads(os.environ.get(f"{name}_OPTIONS", "").strip() or "{}")
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name}_OPTIONS is not valid JSON: {exc}") from exc
    if not isinstance(options, dict):
        raise ImproperlyConfigured(f"{name}_OPTIONS must be a JSON object of the storage's options.")
    if not backend:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        }
    return {"BACKEND": backend, "OPTIONS": options}


# Files of background jobs (imports uploaded, exports made): never under a public URL; the
# backend serves them through a view that checks the staff member's permission.
STORAGES["jobs"] = private_storage("JOB_STORAGE", VAR_DIR / "jobs")
# Files only the people they concern may see (a buyer's after-sale photos): never under a
# public URL, served through signed links that expire (core/private_files.py).
STORAGES["private"] = private_storage("PRIVATE_STORAGE", VAR_DIR / "private")
if TESTING and not os.environ.get("PRIVATE_STORAGE"):
    # The suite's uploaded photos stay in memory, never in the checkout's var/.
    STORAGES["private"] = {"BACKEND": "django.core.files.storage.InMemoryStorage"}
# A running job reports progress at least this often; one silent for longer lost its worker
# and is queued again (at most JOB_MAX_ATTEMPTS runs in all).
JOB_STALE_SECONDS = int(os.environ.get("JOB_STALE_SECONDS", "600"))
JOB_MAX_ATTEMPTS = 3
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Payments -----------------------------------------------------------------------------
# Gateways buyers may pay with, in the order offered: "wechatpay" (WeChat Pay Native, a QR
# code), "wechatpay_h5" (H5 支付, phone browsers outside WeChat; SITE_URL's domain must be
# the merchant's H5 支付域名), "wechatpay_jsapi" (inside WeChat), "wechatpay_miniprogram"
# (the mini-program, through the API; WECHAT_MINIPROGRAM below), "alipay" (configured
# below) and, in demo mode only, "sandbox".
PAYMENT_GATEWAYS = env_list("PAYMENT_GATEWAYS", "" if PRODUCTION else "sandbox")
if PRODUCTION and "sandbox" in PAYMENT_GATEWAYS:
    raise ImproperlyConfigured(
        "PAYMENT_GATEWAYS lists the sandbox gateway, which marks orders paid without money; "
        "it is only available in demo mode (FENXIAO_DEMO=1)."
    )
# WeChat Pay (API v3, Native: the buyer scans a QR code on the mall's pay page), enabled by
# listing "wechatpay" in PAYMENT_GATEWAYS. From the merchant platform (pay.weixin.qq.com):
# the merchant id, the app id bound to it, the API certificate's serial number and private
# key (apiclient_key.pem), the APIv3 key, and the 微信支付公钥 with its id (PUB_KEY_ID_…).
# Notifications go to SITE_URL, which must then be https. `manage.py check` says what is
# missing.
WECHATPAY = {
    "MCHID": os.environ.get("WECHATPAY_MCHID", ""),
    "APPID": os.environ.get("WECHATPAY_APPID", ""),
    "MERCHANT_SERIAL_NO": os.environ.get("WECHATPAY_MERCHANT_SERIAL_NO", ""),
    "PRIVATE_KEY_FILE": os.environ.get("WECHATPAY_PRIVATE_KEY_FILE", ""),
    "API_V3_KEY": os.environ.get("WECHATPAY_API_V3_KEY", ""),
    "PUBLIC_KEY_ID": os.environ.get("WECHATPAY_PUBLIC_KEY_ID", ""),
    "PUBLIC_KEY_FILE": os.environ.get("WECHATPAY_PUBLIC_KEY_FILE", ""),
    # While WeChat Pay switches to a new 微信支付公钥: its id and file, accepted as well.
    "NEXT_PUBLIC_KEY_ID": os.environ.get("WECHATPAY_NEXT_PUBLIC_KEY_ID", ""),
    "NEXT_PUBLIC_KEY_FILE": os.environ.get("WECHATPAY_NEXT_PUBLIC_KEY_FILE", ""),
    "API_BASE": os.environ.get("WECHATPAY_API_BASE", "https://api.mch.weixin.qq.com"),
    # 商家转账 (PAYOUT_WECHAT_ADAPTER=wechatpay): the 转账场景 the merchant platform granted
    # (1005 佣金报酬), what the recipient sees as the reason (收款感知), and the scene's 报备信息
    # (JSON list of {"info_type", "info_content"}).
    "TRANSFER_SCENE_ID": os.environ.get("WECHATPAY_TRANSFER_SCENE_ID", "1005"),
    "TRANSFER_RECV_PERCEPTION": os.environ.get("WECHATPAY_TRANSFER_RECV_PERCEPTION", "劳务报酬"),
    "TRANSFER_REPORT_INFOS": json.loads(
        os.environ.get("WECHATPAY_TRANSFER_REPORT_INFOS", "")
        or '[{"info_type": "岗位类型", "info_content": "分销员"},'
        ' {"info_type": "报酬说明", "info_content": "分销佣金提现"}]'
    ),
}
# Alipay (PAYMENT_GATEWAYS lists "alipay": 手机网站支付, offered outside WeChat's browser;
# PAYOUT_ALIPAY_ADAPTER=alipay: 单笔转账 to distributors): the app's id on the open platform,
# its RSA2 private key, and either the Alipay public key (公钥 mode) or the three
# certificates of 公钥证书 mode, which Alipay requires for transfers (the app's public key
# certificate, Alipay's public key certificate and Alipay's root certificate). Notifications
# go to SITE_URL. `manage.py check` says what is missing.
ALIPAY = {
    "APP_ID": os.environ.get("ALIPAY_APP_ID", ""),
    "PRIVATE_KEY_FILE": os.environ.get("ALIPAY_PRIVATE_KEY_FILE", ""),
    "PUBLIC_KEY_FILE": os.environ.get("ALIPAY_PUBLIC_KEY_FILE", ""),
    "APP_CERT_FILE": os.environ.get("ALIPAY_APP_CERT_FILE", ""),
    "ALIPAY_CERT_FILE": os.environ.get("ALIPAY_ALIPAY_CERT_FILE", ""),
    "ROOT_CERT_FILE": os.environ.get("ALIPAY_ROOT_CERT_FILE", ""),
    "GATEWAY": os.environ.get("ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
}
# "wechatpay_jsapi" (WeChat Pay inside WeChat's browser) also needs the 公众号 of WECHATPAY's
# APPID: its AppSecret, for learning the buyer's openid (网页授权), and SITE_URL's domain set
# as its 网页授权域名, and SITE_URL/pay/ as a JSAPI 支付授权目录.
WECHAT_MP = {
    "SECRET": os.environ.get("WECHAT_MP_SECRET", ""),
    "API_BASE": os.environ.get("WECHAT_MP_API_BASE", "https://api.weixin.qq.com"),
    "OAUTH_BASE": os.environ.get("WECHAT_MP_OAUTH_BASE", "https://open.weixin.qq.com"),
    # WeChat's JS-SDK, loaded by pages with a share card in WeChat's browser only (their
    # script loads it, so a slow download never holds the page up).
    "JSSDK_URL": os.environ.get("WECHAT_MP_JSSDK_URL", "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"),
}
# The merchant's WeChat mini-program (微信小程序), for its sign-in (`/api/v1/auth/
# wechat-miniprogram`: wx.login and getPhoneNumber codes) and for "wechatpay_miniprogram"
# in PAYMENT_GATEWAYS (its AppID must be bound to WECHATPAY's merchant).
WECHAT_MINIPROGRAM = {
    "APPID": os.environ.get("WECHAT_MINIPROGRAM_APPID", ""),
    "SECRET": os.environ.get("WECHAT_MINIPROGRAM_SECRET", ""),
    "API_BASE": os.environ.get("WECHAT_MINIPROGRAM_API_BASE", "https://api.weixin.qq.com"),
    # The page a distributor's 小程序码 opens (scene r=<code>&p=<product>); release/trial/develop.
    "SHARE_PAGE": os.environ.get("WECHAT_MINIPROGRAM_SHARE_PAGE", "pages/index/index"),
    "ENV_VERSION": os.environ.get("WECHAT_MINIPROGRAM_ENV_VERSION", "release"),
}
# The SMS gateway for verification codes: "aliyun" or "tencent" (configured below), or the
# sandbox, which only records messages in the backend (沙箱短信) and shows them on the page
# (demo mode only). With none, asking for a code answers SMS_UNAVAILABLE.
SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "" if PRODUCTION else "sandbox")
if PRODUCTION and SMS_GATEWAY == "sandbox":
    raise ImproperlyConfigured(
        "SMS_GATEWAY is the sandbox, which sends no text messages; "
        "it is only available in demo mode (FENXIAO_DEMO=1)."
    )
# Aliyun SMS (SMS_GATEWAY=aliyun): an AccessKey allowed to call dysmsapi, the approved
# signature (签名, without 【】) and the approved template code of each message (wording in
# customers/services/sms_codes.py; the code templates take ${code}, with the code's 10
# minutes in their text). `manage.py check` says what is missing.
SMS_ALIYUN = {
    "ACCESS_KEY_ID": os.environ.get("SMS_ALIYUN_ACCESS_KEY_ID", ""),
    "ACCESS_KEY_SECRET": os.environ.get("SMS_ALIYUN_ACCESS_KEY_SECRET", ""),
    "SIGN_NAME": os.environ.get("SMS_ALIYUN_SIGN_NAME", ""),
    "TEMPLATES": {
        template: os.environ.get(f"SMS_ALIYUN_TEMPLATE_{template.upper()}", "")
        for template in ("register_code", "already_registered", "reset_code", "not_registered")
    },
    "ENDPOINT": os.environ.get("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/"),
}
# Tencent Cloud SMS (SMS_GATEWAY=tencent): a SecretId/SecretKey allowed to call sms
# SendSms, the 短信应用's SdkAppId, the approved signature (签名, without 【】) and the
# approved template id of each message (wording in customers/services/sms_codes.py; the code
# templates take {1} the code and {2} its minutes). Notices (NOTICE_SMS_ADAPTER=tencent) cut
# each template variable to VARIABLE_LIMIT characters: 12 is what Tencent allows accounts
# verified as a person; an enterprise account may set more, or 0 for no cut.
# `manage.py check` says what is missing.
SMS_TENCENT = {
    "SECRET_ID": os.environ.get("SMS_TENCENT_SECRET_ID", ""),
    "SECRET_KEY": os.environ.get("SMS_TENCENT_SECRET_KEY", ""),
    "SDK_APP_ID": os.environ.get("SMS_TENCENT_SDK_APP_ID", ""),
    "SIGN_NAME": os.environ.get("SMS_TENCENT_SIGN_NAME", ""),
    "TEMPLATES": {
        template: os.environ.get(f"SMS_TENCENT_TEMPLATE_{template.upper()}", "")
        for template in ("register_code", "already_registered", "reset_code", "not_registered")
    },
    "REGION": os.environ.get("SMS_TENCENT_REGION", "ap-guangzhou"),
    "ENDPOINT": os.environ.get("SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com"),
    "VARIABLE_LIMIT": int(os.environ.get("SMS_TENCENT_VARIABLE_LIMIT", "12")),
}
# Notices outside the site (消息). Which adapter serves each external channel (empty: the
# channel is off), and which channels each event kind goes out on ("*": any other kind).
# Adapters: "mp" (WeChat template messages through the 公众号 of WECHATPAY/WECHAT_MP) for
# wechat, "aliyun" (the SMS_ALIYUN account) or "tencent" (SMS_TENCENT) for sms, each sending
# the kinds NOTICE_TEMPLATES has a template for; the sandbox only records what it would send
# (消息 → 通知发送记录). The in-site message is always written.
NOTICE_CHANNEL_ADAPTERS = {
    "sms": os.environ.get("NOTICE_SMS_ADAPTER", "" if PRODUCTION else "sandbox"),
    "wechat": os.environ.get("NOTICE_WECHAT_ADAPTER", "" if PRODUCTION else "sandbox"),
}
if PRODUCTION and "sandbox" in NOTICE_CHANNEL_ADAPTERS.values():
    raise ImproperlyConfigured(
        "NOTICE_SMS_ADAPTER / NOTICE_WECHAT_ADAPTER is the sandbox, which sends nothing; "
        "it is only available in demo mode (FENXIAO_DEMO=1)."
    )
# Payout adapters for electronic withdrawals (empty: none): "wechatpay" (商家转账 to 微信零钱,
# with WECHATPAY's merchant; the distributor confirms receipt in WeChat), "alipay" (单笔转账,
# with ALIPAY's app in 公钥证书 mode). The sandbox only records the transfer (沙箱打款记录)
# and moves no money. Without an adapter an approved WeChat / Alipay withdrawal waits for
# finance to transfer it by hand and mark it paid, as a bank transfer does.
PAYOUT_ADAPTERS = {
    "wechat": os.environ.get("PAYOUT_WECHAT_ADAPTER", "" if PRODUCTION else "sandbox"),
    "alipay": os.environ.get("PAYOUT_ALIPAY_ADAPTER", "" if PRODUCTION else "sandbox"),
}
if PRODUCTION and "sandbox" in PAYOUT_ADAPTERS.values():
    raise ImproperlyConfigured(
        "PAYOUT_WECHAT_ADAPTER / PAYOUT_ALIPAY_ADAPTER is the sandbox, which pays nobody; "
        "it is only available in demo mode (FENXIAO_DEMO=1)."
    )
# Webhooks: a merchant's endpoint may be on localhost or a private network only in
# development, demo and tests; production refuses such addresses (SSRF).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", DEBUG or DEMO_MODE)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# The approved template of each notice kind on providers that send only templates
# (NOTICE_WECHAT_ADAPTER=mp, NOTICE_SMS_ADAPTER=aliyun): JSON, see notices/channels/templates.py.
NOTICE_TEMPLATES = json.loads(os.environ.get("NOTICE_TEMPLATES", "") or "{}")
NOTICE_EVENT_CHANNELS = {
    "order_shipped": ["sms", "wechat"],
    "refund_done": ["sms", "wechat"],
    "after_sale_approved": ["sms", "wechat"],
    "after_sale_closed": ["wechat"],
    "withdrawal_paid": ["sms", "wechat"],
    "withdrawal_to_confirm": ["sms", "wechat"],
    "withdrawal_failed": ["sms", "wechat"],
    "withdrawal_rejected": ["sms", "wechat"],
    "distributor_approved": ["wechat"],
    "distributor_rejected": ["wechat"],
    "claim_decided": ["wechat"],
    "commission_arrived": ["wechat"],
    "commission_settled": ["wechat"],
    "grade_upgraded": ["wechat"],
    "push": [],
    "*": [],
}
# The sandbox refuses this share of sends (0 to 1), to show retries in a demo.
NOTICE_SANDBOX_FAILURE_RATE = float(os.environ.get("NOTICE_SANDBOX_FAILURE_RATE", "0"))
# The tracking service parcels subscribe with (fenxiao/orders/logistics): "kuaidi100", or the
# sandbox, which only runs in demo or debug mode and moves each parcel on every
# LOGISTICS_SANDBOX_STEP_SECONDS.
LOGISTICS_PROVIDER = os.environ.get("LOGISTICS_PROVIDER", "sandbox")
# Kuaidi100 (LOGISTICS_PROVIDER=kuaidi100): the 授权 key of its 订阅推送 service.
KUAIDI100 = {
    "KEY": os.environ.get("KUAIDI100_KEY", ""),
    "ENDPOINT": os.environ.get("KUAIDI100_ENDPOINT", "https://poll.kuaidi100.com/poll"),
}
LOGISTICS_SANDBOX_STEP_SECONDS = float(os.environ.get("LOGISTICS_SANDBOX_STEP_SECONDS", "120"))
# A CJK font for share posters; found automatically among Debian's font packages when unset.
POSTER_FONT_PATH = os.environ.get("POSTER_FONT_PATH", "")
# Notifications older than this are refused as replays.
PAYMENT_NOTIFY_MAX_AGE_SECONDS = 300

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Merchant backend ---------------------------------------------------------------------
# The sidebar and dashboard of django-unfold (fenxiao/backend_nav.py).
UNFOLD = unfold_settings(payment_gateways=PAYMENT_GATEWAYS, sms_gateway=SMS_GATEWAY)

# --- HTTPS --------------------------------------------------------------------------------
# Production is served over HTTPS: secure cookies, redirect from http, HSTS. A demo on a
# plain-http address keeps them off unless HTTPS=1.
HTTPS = env_bool("HTTPS", PRODUCTION)
SESSION_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# Behind a reverse proxy that terminates TLS, the header it sets to "https" for secure
# requests (e.g. HTTP_X_FORWARDED_PROTO). The proxy must overwrite the client's own value.
if os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip():
    SECURE_PROXY_SSL_HEADER = (os.environ["SECURE_PROXY_SSL_HEADER"].strip(), "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = []
if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD:
    # Preloading binds the domain into browsers for years; only its owner can decide that,
    # by setting SECURE_HSTS_PRELOAD=1 and submitting the domain to hstspreload.org.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
