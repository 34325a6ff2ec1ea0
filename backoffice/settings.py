"""Settings for the Qwoty back office, read from the environment (django-environ; `.env` supported).

One module for every environment: DEBUG picks dev-safe defaults, production (DEBUG off)
refuses to start without SECRET_KEY and turns on the secure-transport settings.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from backoffice.qwoty.sandbox import DEFAULT_PORT as SANDBOX_DEFAULT_PORT
from backoffice.qwoty.sandbox import DEFAULT_TOKEN as SANDBOX_TOKEN
from backoffice.qwoty.sandbox import KOYWE_MERCHANT_ID as SANDBOX_KOYWE_MERCHANT_ID
from backoffice.qwoty.sandbox import KOYWE_ORGANIZATION_ID as SANDBOX_KOYWE_ORGANIZATION_ID
from backoffice.qwoty.sandbox import KOYWE_TOKEN as SANDBOX_KOYWE_TOKEN
from backoffice.qwoty.sandbox import PRIOTICKET_CLIENT_ID as SANDBOX_PRIOTICKET_CLIENT_ID
from backoffice.qwoty.sandbox import PRIOTICKET_CLIENT_SECRET as SANDBOX_PRIOTICKET_CLIENT_SECRET

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables win over the file.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

SANDBOX_PORT = env.int("QWOTY_SANDBOX_PORT", default=SANDBOX_DEFAULT_PORT)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-do-not-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "backoffice.sync",
    "customers",
    "contacts",
    "catalogs",
    # Last, so its post_migrate (role permissions) runs after every app's permissions exist.
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "backoffice.context_processors.layout",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with each process's write transactions queued on a lock (backoffice/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "backoffice.sqlite"
    # WAL and a busy timeout let the web server and the worker share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["backoffice.backends.RoleBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Upstream: the bundled sandbox unless told otherwise, so nothing calls a real host by default.
QWOTY_API_URL = env.str("QWOTY_API_URL", default=f"http://127.0.0.1:{SANDBOX_PORT}/api")
# Stripped: a token read from a secret file often ends in a newline, which no HTTP header may hold.
QWOTY_API_TOKEN = env.str("QWOTY_API_TOKEN", default=SANDBOX_TOKEN).strip()
QWOTY_CONNECT_TIMEOUT = env.float("QWOTY_CONNECT_TIMEOUT", default=3.05)
QWOTY_READ_TIMEOUT = env.float("QWOTY_READ_TIMEOUT", default=10.0)
# First retry waits about this long; each further one doubles it (with jitter).
QWOTY_RETRY_BASE_SECONDS = env.float("QWOTY_RETRY_BASE_SECONDS", default=0.5)
QWOTY_RETRY_MAX_SECONDS = env.float("QWOTY_RETRY_MAX_SECONDS", default=300.0)
# After this many failed attempts a retryable error marks the record failed (staff can retry).
QWOTY_PUSH_MAX_ATTEMPTS = env.int("QWOTY_PUSH_MAX_ATTEMPTS", default=8)
# A record pushing (or overdue) for longer than this was left by a dead worker or a lost task.
QWOTY_PUSH_STALE_SECONDS = env.float("QWOTY_PUSH_STALE_SECONDS", default=60.0)
# The longest a call upstream may last, its answer included (the read timeout bounds each socket read only).
# Below the stale threshold, or the sweep would queue again a push still in flight, and it would be sent twice.
QWOTY_CALL_DEADLINE_SECONDS = env.float("QWOTY_CALL_DEADLINE_SECONDS", default=QWOTY_PUSH_STALE_SECONDS / 2)
if not 0 < QWOTY_CALL_DEADLINE_SECONDS < QWOTY_PUSH_STALE_SECONDS:
    raise ImproperlyConfigured(
        f"QWOTY_CALL_DEADLINE_SECONDS ({QWOTY_CALL_DEADLINE_SECONDS:g}) must be above 0 and below "
        f"QWOTY_PUSH_STALE_SECONDS ({QWOTY_PUSH_STALE_SECONDS:g}): a push still in flight past the stale threshold "
        "is queued again by the sweep and sent twice."
    )
# Requests per second to Qwoty, shared by all workers; 0 = unlimited.
QWOTY_PUSH_RATE_PER_SECOND = env.float("QWOTY_PUSH_RATE_PER_SECOND", default=20.0)

# Secondary targets (contacts linked to them explicitly): the bundled sandbox unless told otherwise.
PRIOTICKET_API_URL = env.str("PRIOTICKET_API_URL", default=f"http://127.0.0.1:{SANDBOX_PORT}/prioticket/v3")
PRIOTICKET_TOKEN_URL = env.str(
    "PRIOTICKET_TOKEN_URL", default=f"http://127.0.0.1:{SANDBOX_PORT}/prioticket/oauth2/token"
)
PRIOTICKET_CLIENT_ID = env.str("PRIOTICKET_CLIENT_ID", default=SANDBOX_PRIOTICKET_CLIENT_ID)
PRIOTICKET_CLIENT_SECRET = env.str("PRIOTICKET_CLIENT_SECRET", default=SANDBOX_PRIOTICKET_CLIENT_SECRET).strip()
KOYWE_API_URL = env.str("KOYWE_API_URL", default=f"http://127.0.0.1:{SANDBOX_PORT}/koywe/v1")
KOYWE_API_TOKEN = env.str("KOYWE_API_TOKEN", default=SANDBOX_KOYWE_TOKEN).strip()
KOYWE_ORGANIZATION_ID = env.str("KOYWE_ORGANIZATION_ID", default=SANDBOX_KOYWE_ORGANIZATION_ID)
KOYWE_MERCHANT_ID = env.str("KOYWE_MERCHANT_ID", default=SANDBOX_KOYWE_MERCHANT_ID)
# Requests per second to each secondary target, shared by all workers; 0 = unlimited.
SECONDARY_PUSH_RATE_PER_SECOND = env.float("SECONDARY_PUSH_RATE_PER_SECOND", default=10.0)

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "backoffice.redaction.RedactingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs request lines at DEBUG; keep it quiet and redacted anyway.
        "urllib3": {"level": "WARNING"},
        # Django's default config gives these loggers handlers of their own, which would print each record a
        # second time, unredacted: ours replace them.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # /healthz is probed over plain HTTP by load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
