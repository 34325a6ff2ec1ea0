"""A throw-away back office for chaos and benchmark runs: scratch database, in-process sandbox, pulled data.

Call `scratch_backoffice()` (or `scratch_database()`, without the sandbox) before importing any model:
it sets the environment Django reads.
"""

import io
import os
import secrets
import tempfile
from pathlib import Path

from backoffice.config.sandbox_credentials import SANDBOX_CREDENTIALS
from tests.sandbox_control import Sandbox

# Benchmarks measure what production runs: with DEBUG on, Django also logs every query and the
# templates keep debug information. Pages are served over plain HTTP by the test client.
PRODUCTION = {"DEBUG": False, "SECRET_KEY": "bench-only-secret-key", "SECURE_SSL_REDIRECT": False}
# Production refuses the sandbox's public credentials: a scratch run has its own, which the sandbox
# process it starts is given too.
SCRATCH_CREDENTIALS = {name: f"scratch-{secrets.token_hex(8)}" for name in SANDBOX_CREDENTIALS}
# Where a scratch run without a sandbox points its upstreams: a port nothing listens on (discard).
NO_UPSTREAM = "http://127.0.0.1:9"


def production_static_files() -> None:
    """With DEBUG off, pages link to the hashed names of collectstatic's manifest."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def scratch_database(settings: dict | None = None, *, empty: bool = True) -> None:
    """Point Django at a scratch database and migrate it; `empty` flushes what an earlier run left.

    SCRATCH_DATABASE_URL names one (on PostgreSQL, a database we may empty, created if missing); otherwise a new
    SQLite file.
    """
    database_url = os.environ.get("SCRATCH_DATABASE_URL")
    if not database_url:
        folder = Path(tempfile.mkdtemp(prefix="qwoty-scratch-"))
        database_url = f"sqlite:///{folder / 'scratch.sqlite3'}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "backoffice.config.settings",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "ERROR",
            **SCRATCH_CREDENTIALS,
            **upstream_urls(NO_UPSTREAM),
            **{key: str(value) for key, value in (settings or {}).items()},
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    _create_missing_postgresql_database()
    call_command("migrate", verbosity=0)
    if empty:
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)  # flush empties the role groups: recreate them


def _create_missing_postgresql_database() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:  # connected to the server's "postgres" database, as Django's tests do
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def scratch_backoffice(*, customers: int, settings: dict | None = None) -> Sandbox:
    """Start a sandbox process with `customers` seeded customers, point Django at it and a fresh database, pull."""
    sandbox = Sandbox.start_process(customers=customers, credentials=SCRATCH_CREDENTIALS)
    scratch_database({**upstream_urls(sandbox.base_url), **(settings or {})})
    from django.core.management import call_command

    call_command("qwoty_pull", "--no-progress", stdout=io.StringIO())
    return sandbox


def upstream_urls(base_url: str) -> dict:
    """The upstream URL settings for a sandbox served at `base_url`."""
    return {
        "QWOTY_API_URL": f"{base_url}/api",
        "PRIOTICKET_API_URL": f"{base_url}/prioticket/v3",
        "PRIOTICKET_TOKEN_URL": f"{base_url}/prioticket/oauth2/token",
        "KOYWE_API_URL": f"{base_url}/koywe/v1",
    }
