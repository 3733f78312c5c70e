"""Django settings for OrderHub.

Everything that differs between machines comes from the environment:
DATABASE_URL (default: a SQLite file in the working directory), ORDERHUB_SECRET_KEY,
ORDERHUB_DEBUG, ORDERHUB_ALLOWED_HOSTS, ORDERHUB_SECURE_COOKIES.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("ORDERHUB_DEBUG", False)
# A fixed development key is acceptable only for the embedded demo; production sets its own.
SECRET_KEY = os.environ.get(
    "ORDERHUB_SECRET_KEY", "orderhub-insecure-demo-key-change-me-in-production-0123456789"
)
ALLOWED_HOSTS = os.environ.get("ORDERHUB_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
ALLOWED_HOSTS = [h.strip() for h in ALLOWED_HOSTS.split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    # Serves the API docs page (Swagger UI) from its own static files, never from a CDN.
    "ninja",
    "orderhub.core",
    "orderhub.accounts",
    "orderhub.catalog",
    "orderhub.ingest",
    "orderhub.inventory",
    "orderhub.orders",
    "orderhub.fulfilment",
    "orderhub.tracking",
    "orderhub.notify",
    "orderhub.insights",
    "orderhub.portal",
    "orderhub.drafts",
    "orderhub.web",
]

MIDDLEWARE = [
    # First: everything after it (rate limits, log-in lock-outs) sees the real client address.
    "orderhub.core.middleware.ProxyClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes documents: it turns lock-outs raised by authenticate() into responses.
    "axes.middleware.AxesMiddleware",
]

# Reverse proxies in front of OrderHub (comma-separated addresses or networks): their
# X-Forwarded-For names the client. Empty: REMOTE_ADDR is the client (no proxy).
ORDERHUB_TRUSTED_PROXIES = os.environ.get("ORDERHUB_TRUSTED_PROXIES", "")

ROOT_URLCONF = "orderhub.urls"
WSGI_APPLICATION = "orderhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "orderhub.web.context_processors.workspace",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DEFAULT_SQLITE_PATH = Path.cwd() / "orderhub.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer commits; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the busy timeout instead of failing on lock upgrade.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"),
    }
    # A file (not :memory:) so that tests can run threads and worker processes against it; one
    # per test process so that parallel runs never share it.
    _db["TEST"] = {
        "NAME": os.environ.get(
            "ORDERHUB_TEST_SQLITE", str(Path(tempfile.gettempdir()) / f"orderhub-test-{os.getpid()}.sqlite3")
        )
    }
# Keep connections between requests and jobs: reconnecting costs more than a query.
_db["CONN_MAX_AGE"] = 60
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background jobs (django-tasks, database backend) ----------------------------------------

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "notify", "periodic"],
    }
}
ORDERHUB_JOBS = {
    "MAX_ATTEMPTS": int(os.environ.get("ORDERHUB_JOB_MAX_ATTEMPTS", "6")),
    "BACKOFF_BASE_SECONDS": float(os.environ.get("ORDERHUB_JOB_BACKOFF_SECONDS", "5")),
    "BACKOFF_MAX_SECONDS": 3600.0,
    # A RUNNING job whose worker has not reported for this long is handed back to the queue.
    "WORKER_LEASE_SECONDS": float(os.environ.get("ORDERHUB_WORKER_LEASE_SECONDS", "60")),
    "HEARTBEAT_SECONDS": float(os.environ.get("ORDERHUB_WORKER_HEARTBEAT_SECONDS", "10")),
}
# Audit anchors seal log entries older than this, so in-flight transactions are never skipped.
ORDERHUB_AUDIT_ANCHOR_DELAY_SECONDS = int(os.environ.get("ORDERHUB_AUDIT_ANCHOR_DELAY", "60"))
ORDERHUB_AUDIT_ANCHOR_EVERY_SECONDS = int(os.environ.get("ORDERHUB_AUDIT_ANCHOR_EVERY", "300"))

# --- Tracking (物流跟踪; defaults and every key: orderhub/tracking/conf.py) -------------------

TRACKING = {
    "PROVIDER": os.environ.get("ORDERHUB_TRACKING_PROVIDER", "simulated"),
    "STALL_HOURS": float(os.environ.get("ORDERHUB_STALL_HOURS", "24")),
    "SMS_STALL_TEMPLATE": os.environ.get("ORDERHUB_SMS_STALL_TEMPLATE", ""),
    "KUAIDI100": {
        "CUSTOMER": os.environ.get("ORDERHUB_KUAIDI100_CUSTOMER", ""),
        "KEY": os.environ.get("ORDERHUB_KUAIDI100_KEY", ""),
        "SALT": os.environ.get("ORDERHUB_KUAIDI100_SALT", ""),
        "CALLBACK_URL": os.environ.get("ORDERHUB_KUAIDI100_CALLBACK_URL", ""),
    },
}

# --- Import (接单导入; defaults and every key: orderhub/ingest/conf.py) -------------------------

ORDERHUB_INGEST = {
    # Files larger than this are refused with a message naming this setting.
    "MAX_UPLOAD_BYTES": int(os.environ.get("ORDERHUB_IMPORT_MAX_MB", "200")) * 1024 * 1024,
    # Where uploaded import files are kept with their batches.
    "FILES_DIR": os.environ.get("ORDERHUB_IMPORT_DIR") or None,
}

# --- Accounts and security --------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

# Log-in rate limiting: five failures for one user name from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("ORDERHUB_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

SECURE_COOKIES = _env_bool("ORDERHUB_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = _env_bool("ORDERHUB_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("ORDERHUB_HSTS_SECONDS", "0"))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_COOKIES else None
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("ORDERHUB_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# --- Language and time ----------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("ORDERHUB_STATIC_ROOT", PROJECT_DIR / "staticfiles"))
# Front-end libraries are installed by npm from the committed lock file (see package.json).
NODE_MODULES = PROJECT_DIR / "node_modules"
STATICFILES_DIRS = [("vendor", NODE_MODULES)] if NODE_MODULES.exists() else []
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("ORDERHUB_MEDIA_ROOT", Path.cwd() / "media"))
MEDIA_URL = "media/"
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "orderhub": {"handlers": ["console"], "level": os.environ.get("ORDERHUB_LOG", "INFO")},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
    },
}

# Label of the trading company shown in the header; the demo sets its own.
ORDERHUB_COMPANY_NAME = os.environ.get("ORDERHUB_COMPANY_NAME", "OrderHub")
