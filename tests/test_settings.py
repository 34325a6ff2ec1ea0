"""Settings come from the environment; production refuses unsafe defaults."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def settings_in_subprocess(env: dict, *names: str) -> subprocess.CompletedProcess:
    """Import settings in a fresh interpreter with exactly `env` (plus PATH), print the named values."""
    code = (
        "import json, backoffice.settings as s; "
        "value = lambda n: s.DATABASES['default'] if n == 'DATABASES' else getattr(s, n); "
        f"print(json.dumps({{n: value(n) for n in {names!r}}}, default=str))"
    )
    full_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True)


def test_defaults_are_sqlite_and_the_bundled_sandbox():
    result = settings_in_subprocess({}, "DEBUG", "DATABASES", "QWOTY_API_URL", "QWOTY_API_TOKEN")
    values = json.loads(result.stdout)
    assert values["DEBUG"] is True
    assert values["DATABASES"]["ENGINE"] == "backoffice.sqlite"  # Django's, with writers queued per process
    assert values["QWOTY_API_URL"] == "http://127.0.0.1:8765/api"
    assert values["QWOTY_API_TOKEN"] == "qwoty_sandbox_token"


def test_environment_overrides_database_and_upstream():
    env = {
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
    dotenv.write_text("QWOTY_API_URL=http://from-dotenv.test/api\nTIME_ZONE=Europe/Paris\n")
    env = {"ENV_FILE": str(dotenv), "TIME_ZONE": "America/Santiago"}
    values = json.loads(settings_in_subprocess(env, "QWOTY_API_URL", "TIME_ZONE").stdout)
    assert values == {"QWOTY_API_URL": "http://from-dotenv.test/api", "TIME_ZONE": "America/Santiago"}


def test_production_refuses_to_start_without_secret_key():
    result = settings_in_subprocess({"DEBUG": "false"}, "DEBUG")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_pass_check_deploy():
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "x" * 64 + "-production-like-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "bo.example",
    }
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
    assert json.loads(settings_in_subprocess({}, "QWOTY_CALL_DEADLINE_SECONDS").stdout) == {
        "QWOTY_CALL_DEADLINE_SECONDS": 30.0
    }
    env = {"QWOTY_PUSH_STALE_SECONDS": "10"}
    assert json.loads(settings_in_subprocess(env, "QWOTY_CALL_DEADLINE_SECONDS").stdout) == {
        "QWOTY_CALL_DEADLINE_SECONDS": 5.0
    }
    env = {"QWOTY_PUSH_STALE_SECONDS": "10", "QWOTY_CALL_DEADLINE_SECONDS": "9.5"}
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
    result = settings_in_subprocess(env, "QWOTY_CALL_DEADLINE_SECONDS")
    assert result.returncode != 0
    assert "ImproperlyConfigured: QWOTY_CALL_DEADLINE_SECONDS" in result.stderr
    assert "must be above 0 and below QWOTY_PUSH_STALE_SECONDS" in result.stderr
