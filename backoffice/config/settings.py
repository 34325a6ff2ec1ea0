"""Settings for the Qwoty back office, read from the environment (django-environ; `.env` supported).

One module for every environment. DEBUG is off unless the environment turns it on (`make run` and the
test suite do): with it on, the defaults are dev-safe and point at the bundled sandbox; with it off
(production), the process refuses to start without SECRET_KEY or with any upstream setting unset or
still the sandbox's, and turns on the secure-transport settings.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from backoffice.config.sandbox_credentials import SANDBOX_CREDENTIALS, SANDBOX_PORT

BASE_DIR = Path(__file__).resolve().parents[2]  # backoffice/config/settings.py -> the checkout

env = environ.Env()
# Real environment variables win over the file.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SANDBOX_PORT = env.int("QWOTY_SANDBOX_PORT", default=SANDBOX_PORT)

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
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "backoffice.sync",
    "backoffice.ui",
    "customers",
    "contacts",
    "catalogs",
    "backoffice.imports",
    "backoffice.pushlog",
    # Last, so its post_migrate (role permissions) runs after every app's permissions exist.
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.config.urls"
WSGI_APPLICATION = "backoffice.config.wsgi.application"

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
                "backoffice.ui.context_processors.layout",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with each process's write transactions queued on a lock (backoffice/db/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "backoffice.db.sqlite"
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
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "backoffice.accounts.backends.RoleBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Failed logins (our login page and the admin's): after AXES_FAILURE_LIMIT failures for one username from
# one address, that pair is locked out for AXES_COOLOFF_TIME (429 and a page saying so). Per pair, so one
# person mistyping cannot lock out the office behind the same address, nor a stranger a colleague.
# `manage.py axes_reset_username NAME` lifts a lockout early.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Sessions end when the browser closes, and after 10 hours at most (a working day).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=10 * 3600)
# HTMX sends the CSRF token from the page (hx-headers on <body>): no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True

# Content-Security-Policy: our own scripts and styles only, no inline code, no eval (htmx is configured
# without it), no framing. Django's admin works under it too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

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


def upstream(name: str, sandbox_default: str) -> str:
    """An upstream URL or credential. With DEBUG on it defaults to the bundled sandbox's; in production it
    must be set, and to something other than the sandbox's public value."""
    # Stripped: a value read from a secret file often ends in a newline, which no HTTP header may hold.
    value = env.str(name, default=sandbox_default if DEBUG else "").strip()
    if not DEBUG and (not value or value == SANDBOX_CREDENTIALS.get(name)):
        state = "is not set" if not value else "is still the bundled sandbox's public value"
        raise ImproperlyConfigured(f"{name} {state}: set it to the real upstream's when DEBUG is off.")
    return value


# Upstreams: the bundled sandbox unless told otherwise, so nothing calls a real host by default.
sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
QWOTY_API_URL = upstream("QWOTY_API_URL", f"{sandbox_url}/api")
QWOTY_API_TOKEN = upstream("QWOTY_API_TOKEN", SANDBOX_CREDENTIALS["QWOTY_API_TOKEN"])
QWOTY_CONNECT_TIMEOUT = env.float("QWOTY_CONNECT_TIMEOUT", default=3.05)
QWOTY_READ_TIMEOUT = env.float("QWOTY_READ_TIMEOUT", default=10.0)
# First retry waits about this long; each further one doubles it (with jitter).
QWOTY_RETRY_BASE_SECONDS = env.float("QWOTY_RETRY_BASE_SECONDS", default=0.5)
QWOTY_RETRY_MAX_SECONDS = env.float("QWOTY_RETRY_MAX_SECONDS", default=300.0)
# A worker holds a target's pushes back after this many calls in a row failed as a target that is down fails
# (sync/circuit.py), and lets one through now and then: after QWOTY_RETRY_BASE_SECONDS, doubling up to this cap
# (or QWOTY_RETRY_MAX_SECONDS if less).
QWOTY_CIRCUIT_FAILURES = env.int("QWOTY_CIRCUIT_FAILURES", default=5)
QWOTY_CIRCUIT_MAX_SECONDS = env.float("QWOTY_CIRCUIT_MAX_SECONDS", default=30.0)
if QWOTY_CIRCUIT_FAILURES < 1 or QWOTY_CIRCUIT_MAX_SECONDS <= 0:
    raise ImproperlyConfigured("QWOTY_CIRCUIT_FAILURES must be 1 or more, and QWOTY_CIRCUIT_MAX_SECONDS above 0.")
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
# Minutes between scheduled refreshes from Qwoty (queued by the sweep, run by a worker); 0 = never.
QWOTY_REFRESH_MINUTES = env.float("QWOTY_REFRESH_MINUTES", default=15)
# Requests per second to Qwoty, shared by all workers; 0 = unlimited.
QWOTY_PUSH_RATE_PER_SECOND = env.float("QWOTY_PUSH_RATE_PER_SECOND", default=20.0)

# Bulk import (CSV of contact or catalog changes): the largest file and row count taken, files up to this many
# rows previewed during the upload (larger ones by a worker, with a progress bar), and how long a previewing or
# applying job may sit idle before the sweep queues it again (a worker died with it).
QWOTY_IMPORT_MAX_BYTES = env.int("QWOTY_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
QWOTY_IMPORT_MAX_ROWS = env.int("QWOTY_IMPORT_MAX_ROWS", default=50_000)
QWOTY_IMPORT_INLINE_ROWS = env.int("QWOTY_IMPORT_INLINE_ROWS", default=500)
QWOTY_IMPORT_STALE_SECONDS = env.float("QWOTY_IMPORT_STALE_SECONDS", default=300.0)

# Secondary targets (contacts linked to them explicitly).
PRIOTICKET_API_URL = upstream("PRIOTICKET_API_URL", f"{sandbox_url}/prioticket/v3")
PRIOTICKET_TOKEN_URL = upstream("PRIOTICKET_TOKEN_URL", f"{sandbox_url}/prioticket/oauth2/token")
PRIOTICKET_CLIENT_ID = upstream("PRIOTICKET_CLIENT_ID", SANDBOX_CREDENTIALS["PRIOTICKET_CLIENT_ID"])
PRIOTICKET_CLIENT_SECRET = upstream("PRIOTICKET_CLIENT_SECRET", SANDBOX_CREDENTIALS["PRIOTICKET_CLIENT_SECRET"])
KOYWE_API_URL = upstream("KOYWE_API_URL", f"{sandbox_url}/koywe/v1")
KOYWE_API_TOKEN = upstream("KOYWE_API_TOKEN", SANDBOX_CREDENTIALS["KOYWE_API_TOKEN"])
KOYWE_ORGANIZATION_ID = upstream("KOYWE_ORGANIZATION_ID", SANDBOX_CREDENTIALS["KOYWE_ORGANIZATION_ID"])
KOYWE_MERCHANT_ID = upstream("KOYWE_MERCHANT_ID", SANDBOX_CREDENTIALS["KOYWE_MERCHANT_ID"])
# Requests per second to each secondary target, shared by all workers; 0 = unlimited.
SECONDARY_PUSH_RATE_PER_SECOND = env.float("SECONDARY_PUSH_RATE_PER_SECOND", default=10.0)

# The task queue: the database (the embedded default: a push's task row commits or rolls back with the
# edit, it is the outbox) or Redis through RQ, for several worker nodes. With RQ a push is queued once its
# edit has committed; the record row stays the outbox and the sweep re-queues a push whose job was lost.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}}
TASK_BACKENDS = {
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": list(RQ_QUEUES)},
}
if TASKS_BACKEND not in TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND is {TASKS_BACKEND!r}: use one of {', '.join(TASK_BACKENDS)}.")
TASKS = {"default": TASK_BACKENDS[TASKS_BACKEND]}
# RQ workers (`manage.py rqworker-pool default --num-workers N`): django-tasks' job class, our worker class.
RQ = {"JOB_CLASS": "django_tasks_rq.backend.Job", "WORKER_CLASS": "backoffice.sync.queue.PushWorker"}

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
        # django-axes says hello at every start and after every login at INFO; failures and lockouts are warnings.
        "axes": {"level": "WARNING"},
        # Django's default config gives these loggers handlers of their own, which would print each record a
        # second time, unredacted: ours replace them.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

# Alerts to managers (backoffice/sync/alerts.py): email through Django's mail. EMAIL_URL (smtp+tls://user:pass@host:587)
# or the usual EMAIL_* settings; with DEBUG on and neither set, emails are printed on the console.
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    backend = "console" if DEBUG else "smtp"
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=f"django.core.mail.backends.{backend}.EmailBackend")
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)  # a sweep never hangs on a mail server
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
# Addresses told besides the Managers group's, and where links in the emails point.
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])
BACKOFFICE_URL = env.str("BACKOFFICE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
# A target is failing once this many pushes to it failed within the window, or a worker has held its pushes back
# (it is down) for ALERT_HELD_MINUTES; it has recovered once none failed for ALERT_RECOVERY_MINUTES and one went
# through since, or none failed within the window.
ALERT_WINDOW_MINUTES = env.float("ALERT_WINDOW_MINUTES", default=10.0)
ALERT_FAILURE_THRESHOLD = env.int("ALERT_FAILURE_THRESHOLD", default=20)
ALERT_HELD_MINUTES = env.float("ALERT_HELD_MINUTES", default=2.0)
ALERT_RECOVERY_MINUTES = env.float("ALERT_RECOVERY_MINUTES", default=2.0)
if ALERT_FAILURE_THRESHOLD < 1 or ALERT_WINDOW_MINUTES <= 0:
    raise ImproperlyConfigured("ALERT_FAILURE_THRESHOLD must be 1 or more, and ALERT_WINDOW_MINUTES above 0.")

# Behind a TLS-terminating proxy, name the header it sets, e.g. SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https.
# Trusted only when configured: without such a proxy, any client could send the header and pass as HTTPS.
if env.str("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER"))
    if len(SECURE_PROXY_SSL_HEADER) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER takes a header and a value: HTTP_X_FORWARDED_PROTO,https")

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # /healthz is probed over plain HTTP by load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
