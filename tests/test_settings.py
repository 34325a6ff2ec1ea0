"""Settings come from the environment; production refuses unsafe defaults."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backoffice.config.sandbox_credentials import SANDBOX_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent


def settings_in_subprocess(env: dict, *names: str) -> subprocess.CompletedProcess:
    """Import settings in a fresh interpreter with exactly `env` (plus PATH), print the named values."""
    code = (
        "import json, backoffice.config.settings as s; "
        "value = lambda n: s.DATABASES['default'] if n == 'DATABASES' else getattr(s, n); "
        f"print(json.dumps({{n: value(n) for n in {names!r}}}, default=str))"
    )
    full_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True)


# What a production deployment sets: everything the settings refuse to default.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 64 + "-production-like-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "bo.example",
    "QWOTY_API_URL": "https://qwoty.example/api",
    "QWOTY_API_TOKEN": "qwt_prod_abc",
    "PRIOTICKET_API_URL": "https://prioticket.example/v3",
    "PRIOTICKET_TOKEN_URL": "https://prioticket.example/oauth2/token",
    "PRIOTICKET_CLIENT_ID": "prod-client",
    "PRIOTICKET_CLIENT_SECRET": "prod-secret",
    "KOYWE_API_URL": "https://koywe.example/v1",
    "KOYWE_API_TOKEN": "koy_prod",
    "KOYWE_ORGANIZATION_ID": "org_prod",
    "KOYWE_MERCHANT_ID": "mer_prod",
}


def test_defaults_are_sqlite_and_the_bundled_sandbox_when_debug_is_on():
    result = settings_in_subprocess({"DEBUG": "true"}, "DEBUG", "DATABASES", "QWOTY_API_URL", "QWOTY_API_TOKEN")
    values = json.loads(result.stdout)
    assert values["DEBUG"] is True
    assert values["DATABASES"]["ENGINE"] == "backoffice.db.sqlite"  # Django's, with writers queued per process
    assert values["QWOTY_API_URL"] == "http://127.0.0.1:8765/api"
    assert values["QWOTY_API_TOKEN"] == "qwoty_sandbox_token"


def test_debug_is_off_unless_the_environment_turns_it_on():
    result = settings_in_subprocess({}, "DEBUG")
    assert result.returncode != 0  # off, so the production checks run: no SECRET_KEY here
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert json.loads(settings_in_subprocess(PRODUCTION, "DEBUG").stdout) == {"DEBUG": False}


def test_environment_overrides_database_and_upstream():
    env = {
        "DEBUG": "true",
        "DATABASE_URL": "postgres://bo:pw@db.internal:5432/backoffice",
        "QWOTY_API_URL": "https://qwoty.example/api",
        "QWOTY_API_TOKEN": "qwt_prod_abc",
        "ALLOWED_HOSTS": "bo.example,admin.example",
    }
    result = settings_in_subprocess(env, "DATABASES", "QWOTY_API_URL", "QWOTY_API_TOKEN", "ALLOWED_HOSTS")
    values = json.loads(result.stdout)
    assert values["DATABASES"]["ENGINE"] == "django.db.backends.postgresql"
    assert values["DATABASES"]["HOST"] == "db.internal"
    assert values["DATABASES"]["NAME"] == "backoffice"
    assert values["QWOTY_API_URL"] == "https://qwoty.example/api"
    assert values["QWOTY_API_TOKEN"] == "qwt_prod_abc"
    assert values["ALLOWED_HOSTS"] == ["bo.example", "admin.example"]


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DEBUG=true\nQWOTY_API_URL=http://from-dotenv.test/api\nTIME_ZONE=Europe/Paris\n")
    env = {"ENV_FILE": str(dotenv), "TIME_ZONE": "America/Santiago"}
    values = json.loads(settings_in_subprocess(env, "QWOTY_API_URL", "TIME_ZONE").stdout)
    assert values == {"QWOTY_API_URL": "http://from-dotenv.test/api", "TIME_ZONE": "America/Santiago"}


def test_production_refuses_to_start_without_secret_key():
    result = settings_in_subprocess({**PRODUCTION, "SECRET_KEY": ""}, "DEBUG")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_starts_with_every_upstream_setting_its_own():
    result = settings_in_subprocess(PRODUCTION, "QWOTY_API_TOKEN", "KOYWE_MERCHANT_ID", "PRIOTICKET_TOKEN_URL")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "QWOTY_API_TOKEN": "qwt_prod_abc",
        "KOYWE_MERCHANT_ID": "mer_prod",
        "PRIOTICKET_TOKEN_URL": "https://prioticket.example/oauth2/token",
    }


UPSTREAM_SETTINGS = [name for name in PRODUCTION if name.startswith(("QWOTY_", "PRIOTICKET_", "KOYWE_"))]


@pytest.mark.parametrize("name", UPSTREAM_SETTINGS)
def test_production_refuses_an_unset_upstream_setting(name):
    env = {key: value for key, value in PRODUCTION.items() if key != name}
    result = settings_in_subprocess(env, "DEBUG")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} is not set" in result.stderr


@pytest.mark.parametrize("name", sorted(SANDBOX_CREDENTIALS))
def test_production_refuses_the_sandbox_credentials(name):
    result = settings_in_subprocess({**PRODUCTION, name: SANDBOX_CREDENTIALS[name]}, "DEBUG")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} is still the bundled sandbox's public value" in result.stderr
    assert SANDBOX_CREDENTIALS[name] not in result.stderr  # the message names the setting, not the secret


def test_production_processes_never_import_the_sandbox():
    # What the web server and the worker load: the WSGI app, every URL and view, the production commands.
    code = (
        "import sys, django; django.setup(); "
        "from backoffice.config.wsgi import application; "
        "from django.urls import get_resolver; get_resolver().url_patterns; "
        "from django.core.management import load_command_class; "
        "[load_command_class('backoffice', f'qwoty_{name}') for name in ('worker', 'sweep', 'push', 'pull')]; "
        "print(sorted(name for name in sys.modules if 'sandbox' in name))"
    )
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **PRODUCTION}
    env["DJANGO_SETTINGS_MODULE"] = "backoffice.config.settings"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['backoffice.config.sandbox_credentials']"  # constants only, no server


def test_production_session_and_cookie_settings():
    names = (
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "SESSION_COOKIE_AGE",
        "CSRF_COOKIE_HTTPONLY",
        "AUTH_PASSWORD_VALIDATORS",
    )
    values = json.loads(settings_in_subprocess(PRODUCTION, *names).stdout)
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert values["SESSION_COOKIE_AGE"] <= 12 * 3600
    assert values["CSRF_COOKIE_HTTPONLY"] is True
    assert {"min_length": 12} in [validator.get("OPTIONS") for validator in values["AUTH_PASSWORD_VALIDATORS"]]


def test_the_proxy_ssl_header_is_trusted_only_when_configured():
    code = "import backoffice.config.settings as s; print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    env = {"PATH": os.environ["PATH"], **PRODUCTION}
    plain = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert plain.stdout.strip() == "None"  # a client's X-Forwarded-Proto would otherwise pass as HTTPS
    env["SECURE_PROXY_SSL_HEADER"] = "HTTP_X_FORWARDED_PROTO,https"
    proxied = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proxied.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_production_settings_pass_check_deploy():
    env = {"PATH": os.environ["PATH"], **PRODUCTION}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_call_deadline_is_half_the_stale_threshold_unless_set():
    assert json.loads(settings_in_subprocess({"DEBUG": "true"}, "QWOTY_CALL_DEADLINE_SECONDS").stdout) == {
        "QWOTY_CALL_DEADLINE_SECONDS": 30.0
    }
    env = {"DEBUG": "true", "QWOTY_PUSH_STALE_SECONDS": "10"}
    assert json.loads(settings_in_subprocess(env, "QWOTY_CALL_DEADLINE_SECONDS").stdout) == {
        "QWOTY_CALL_DEADLINE_SECONDS": 5.0
    }
    env = {"DEBUG": "true", "QWOTY_PUSH_STALE_SECONDS": "10", "QWOTY_CALL_DEADLINE_SECONDS": "9.5"}
    assert json.loads(settings_in_subprocess(env, "QWOTY_CALL_DEADLINE_SECONDS").stdout) == {
        "QWOTY_CALL_DEADLINE_SECONDS": 9.5
    }


@pytest.mark.parametrize(
    "env",
    [
        {"QWOTY_CALL_DEADLINE_SECONDS": "60"},
        {"QWOTY_CALL_DEADLINE_SECONDS": "90", "QWOTY_PUSH_STALE_SECONDS": "60"},
        {"QWOTY_CALL_DEADLINE_SECONDS": "0"},
    ],
)
def test_a_call_deadline_not_below_the_stale_threshold_is_refused(env):
    # A push still in flight past the stale threshold is queued again by the sweep: a second PATCH.
    result = settings_in_subprocess({"DEBUG": "true", **env}, "QWOTY_CALL_DEADLINE_SECONDS")
    assert result.returncode != 0
    assert "ImproperlyConfigured: QWOTY_CALL_DEADLINE_SECONDS" in result.stderr
    assert "must be above 0 and below QWOTY_PUSH_STALE_SECONDS" in result.stderr


def test_alert_emails_print_on_the_console_in_development_and_go_by_smtp_in_production():
    names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_TLS", "ALERT_EMAILS")
    development = json.loads(settings_in_subprocess({"DEBUG": "true"}, *names).stdout)
    assert development["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert development["ALERT_EMAILS"] == []

    mail = {"EMAIL_URL": "smtp+tls://alerts:pw@mail.example:587", "ALERT_EMAILS": "ops@example.com,cto@example.com"}
    production = json.loads(settings_in_subprocess({**PRODUCTION, **mail}, *names).stdout)
    assert production == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "alerts",
        "EMAIL_USE_TLS": True,
        "ALERT_EMAILS": ["ops@example.com", "cto@example.com"],
    }
    separate = {"EMAIL_HOST": "relay.example", "EMAIL_PORT": "2525"}
    assert json.loads(settings_in_subprocess({**PRODUCTION, **separate}, "EMAIL_HOST", "EMAIL_PORT").stdout) == {
        "EMAIL_HOST": "relay.example",
        "EMAIL_PORT": 2525,
    }
