"""Settings for every deployment; values come from `civicloop.config.env`.

The embedded defaults (SQLite, in-process worker, local-memory cache, files on disk)
need no variable at all. PostgreSQL, Redis/Celery and S3 storage are switched on only
by environment variables (see README and .env.example).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from civicloop.config import modules
from civicloop.config.env import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)
# A development key; production.py refuses to start with it.
DEV_SECRET_KEY = "civicloop-development-only-not-secret"  # noqa: S105 - refused in production
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# IP addresses or CIDR networks of our own reverse proxies (nginx, the load balancer):
# only from these is X-Forwarded-For believed, so rate limits and camera allowlists see
# the real client behind them and no one else can choose the address they are counted by.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# The public address used in links sent by SMS and printed on QR posters.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# A reported point farther than this from every town's centroid is refused as outside
# the city (core.areas.services.area_nearest), not routed to a border town.
AREA_ROUTING_MAX_KM = env.float("AREA_ROUTING_MAX_KM", default=12.0)

VAR_DIR = Path(env.str("CIVICLOOP_VAR_DIR", default=str(BASE_DIR / "var")))

# Which modules run: a comma list of names (unset: every module in config/modules.py).
CIVICLOOP_MODULES = env.list("CIVICLOOP_MODULES", default=[])
_enabled_modules = modules.enabled_specs(CIVICLOOP_MODULES)
# Every module this installation can run (dotted app paths), enabled or not.
CIVICLOOP_MODULES_AVAILABLE = list(modules.AVAILABLE)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "civicloop.core.accounts",
    "civicloop.core.areas",
    "civicloop.core.units",
    "civicloop.core.sla",
    "civicloop.core.attachments",
    "civicloop.core.outbox",
    "civicloop.core.cases",
    "civicloop.core.forms",
    # The enabled modules (CIVICLOOP_MODULES; see civicloop/config/modules.py).
    *(spec.app for spec in _enabled_modules),
    "civicloop.web",
    "civicloop.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A refusal (core.errors.DomainError) no view answered: a message or a 4xx page.
    "civicloop.web.middleware.RefusalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "civicloop.config.urls"
WSGI_APPLICATION = "civicloop.config.wsgi.application"

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
            ],
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'civicloop.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the embedded worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://civicloop")}

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "civicloop.core.accounts.login_limits.AccountLimitBackend",
    # Never asked for a password (the backend above answers every existing account);
    # kept for the sessions it signs in: citizens by SMS code (web.citizen).
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:workbench"
LOGOUT_REDIRECT_URL = "web:login"

# Login throttling (django-axes): lock a username+IP after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
# Only username+IP: axes has one limit for every parameter, and a lock on the username
# alone at 5 failures would let anyone lock any account. The per-account limit across
# addresses is our own (core.accounts.login_limits, the AccountLimitBackend below): it
# slows down after ACCOUNT_LOGIN_SLOW_AFTER failures in a row and locks the account
# after ACCOUNT_LOGIN_LOCK_AFTER (an admin or the person's unit leader unlocks it).
# The trade-off: whoever knows a username can lock it, but only for browsers that never
# signed in to it (the owner's own browser keeps working), and only after many hours of
# paced tries (the waits double up to ACCOUNT_LOGIN_MAX_WAIT seconds).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
ACCOUNT_LOGIN_SLOW_AFTER = env.int("ACCOUNT_LOGIN_SLOW_AFTER", default=10)
ACCOUNT_LOGIN_LOCK_AFTER = env.int("ACCOUNT_LOGIN_LOCK_AFTER", default=30)
ACCOUNT_LOGIN_MAX_WAIT = env.int("ACCOUNT_LOGIN_MAX_WAIT", default=3600)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
# The lockout counts the real client behind the trusted proxies, as every rate limit does.
AXES_CLIENT_IP_CALLABLE = "civicloop.core.client_ip.client_ip"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "civicloop" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# JavaScript libraries from npm, copied out of node_modules by `make setup`.
STATICFILES_DIRS = [
    ("vendor/echarts", BASE_DIR / "build" / "vendor" / "echarts"),
    ("vendor/geo", BASE_DIR / "build" / "vendor" / "geo"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Files: on disk by default, S3-compatible when AWS_STORAGE_BUCKET_NAME is set.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# In development whitenoise serves straight from the apps' static folders; production
# serves what `collectstatic` gathered into STATIC_ROOT (make run does that).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Personal data at rest: Fernet keys (comma separated, newest first, for rotation).
# The development default is derived from the dev secret; production requires the variable.
_dev_field_key = base64.urlsafe_b64encode(hashlib.sha256(DEV_SECRET_KEY.encode()).digest()).decode()
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[_dev_field_key])

# The job engine. Empty broker: embedded in-process worker and scheduler.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "civicloop"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Proof for /healthz/ready that a scheduler runs and a worker takes its jobs.
    "worker-heartbeat": {
        "task": "civicloop.core.jobs.tasks.worker_heartbeat_task",
        "schedule": 15.0,
    },
    "outbox-sweep": {"task": "civicloop.core.outbox.tasks.outbox_sweep", "schedule": 30.0},
    # Hourly, though the retention is in days: one cheap idempotent UPDATE, and a process
    # restarted daily would never reach a 24-hour interval of the embedded scheduler.
    "outbox-payload-retention": {
        "task": "civicloop.core.outbox.tasks.outbox_payload_purge",
        "schedule": 3600.0,
    },
    "sla-sweep": {"task": "civicloop.core.cases.tasks.sla_sweep", "schedule": 60.0},
    # The cockpit's figures follow the cases within seconds (and are refreshed again
    # before the cockpit answers); rebuilt from the cases once a day.
    "case-rollups": {"task": "civicloop.core.cases.tasks.rollups_refresh", "schedule": 10.0},
    "case-rollups-rebuild": {
        "task": "civicloop.core.cases.tasks.rollups_rebuild",
        "schedule": 86400.0,
    },
    "attachments-orphans": {
        "task": "civicloop.core.attachments.tasks.attachments_sweep_orphans",
        "schedule": 3600.0,
    },
}
CELERY_BEAT_SCHEDULE.update(
    {
        task.name: {"task": task.task, "schedule": task.every_seconds}
        for spec in _enabled_modules
        for task in spec.periodic_tasks
    }
)
WORKER_MODE = "celery" if CELERY_BROKER_URL else "embedded"
# Modules whose demo data `load_demo` leaves out (a comma list; the test suite leaves out
# the heavy ones unless a test asks for the whole demo).
DEMO_SKIP_MODULES = env.list("DEMO_SKIP_MODULES", default=[])

# Outbox delivery: retries with exponential back-off, then the dead-letter state.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_BACKOFF_BASE_SECONDS = env.int("OUTBOX_BACKOFF_BASE_SECONDS", default=30)
OUTBOX_BACKOFF_CAP_SECONDS = env.int("OUTBOX_BACKOFF_CAP_SECONDS", default=3600)
# Longer than the slowest provider call, so a live delivery is never taken over.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
# /healthz/ready answers 503 beyond these: no worker heartbeat for this long, this many
# messages waiting to be sent, or the oldest of them waiting this long.
READY_WORKER_MAX_SECONDS = env.int("READY_WORKER_MAX_SECONDS", default=90)
READY_OUTBOX_MAX_PENDING = env.int("READY_OUTBOX_MAX_PENDING", default=1000)
READY_OUTBOX_MAX_AGE_SECONDS = env.int("READY_OUTBOX_MAX_AGE_SECONDS", default=300)
# Days a sent message keeps its payload (phone, code, link) before the daily sweep clears
# it; the template, masked recipient, times and provider id are kept for the audit.
OUTBOX_PAYLOAD_RETENTION_DAYS = env.int("OUTBOX_PAYLOAD_RETENTION_DAYS", default=7)

# Notification adapters. "console" logs; "aliyun" calls SendSms through the official SDK.
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="dysmsapi.aliyuncs.com")
ALIYUN_ACCESS_KEY_ID = env.str("ALIYUN_ACCESS_KEY_ID", default="")
ALIYUN_ACCESS_KEY_SECRET = env.str("ALIYUN_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="温岭市民意直达")
DINGTALK_BACKEND = env.str("DINGTALK_BACKEND", default="console")
DINGTALK_ROBOT_URL = env.str("DINGTALK_ROBOT_URL", default="")
DINGTALK_ROBOT_SECRET = env.str("DINGTALK_ROBOT_SECRET", default="")
DINGTALK_API_BASE = env.str("DINGTALK_API_BASE", default="https://oapi.dingtalk.com")
DINGTALK_APP_KEY = env.str("DINGTALK_APP_KEY", default="")
DINGTALK_APP_SECRET = env.str("DINGTALK_APP_SECRET", default="")
DINGTALK_AGENT_ID = env.str("DINGTALK_AGENT_ID", default="")
WEBHOOK_SIGNING_SECRET = env.str("WEBHOOK_SIGNING_SECRET", default="")

# Uploads.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_MAX_COUNT = env.int("ATTACHMENT_MAX_COUNT", default=9)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security headers that hold in every mode; production.py adds HSTS and secure cookies.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 8 * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "civicloop": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "django": {"handlers": ["console"], "level": "WARNING"},
    },
}

# Every module's settings, from the environment or their defaults (see each module's
# hooks.py and `manage.py modules`). A disabled module's settings are defined too, so
# nothing reads a missing name; production requires only the enabled modules' secrets.
for _spec in modules.available_specs():
    for _setting in _spec.settings:
        globals()[_setting.name] = _setting.read(env, globals())
