"""Shared fixtures: every test talks to a real sandbox upstream over HTTP, never to a real host."""

import pytest
from django.conf import settings as django_settings

from backoffice.health import forget_upstream_check
from backoffice.sync.connectors.http import ClientCredentials
from sandbox import SandboxServer
from tests.browser.fixtures import chromium, push_worker, staff  # noqa: F401  (the browser tests' fixtures)
from tests.queues import use_queue
from tests.sandbox_control import Sandbox

# Shaped like a production token so redaction tests catch any leak of it.
TEST_TOKEN = "qwt_prod_test_5ecret_T0ken_9f8e7d"


@pytest.fixture(scope="session")
def sandbox_server():
    server = SandboxServer(port=0, customers=25, token=TEST_TOKEN).start()
    yield Sandbox(server.url, token=TEST_TOKEN)
    server.stop()


@pytest.fixture(autouse=True)
def _upstream_is_sandbox(sandbox_server, settings):
    """Point every test at the sandbox, with its faults cleared and its request log empty."""
    settings.QWOTY_API_URL = sandbox_server.url
    settings.QWOTY_API_TOKEN = TEST_TOKEN
    settings.QWOTY_RETRY_BASE_SECONDS = 0.01
    settings.PRIOTICKET_API_URL = f"{sandbox_server.base_url}/prioticket/v3"
    settings.PRIOTICKET_TOKEN_URL = f"{sandbox_server.base_url}/prioticket/oauth2/token"
    settings.KOYWE_API_URL = f"{sandbox_server.base_url}/koywe/v1"
    ClientCredentials.forget_all()  # tokens an earlier test's sandbox issued
    forget_upstream_check()  # /healthz's remembered answer came from an earlier test's sandbox
    sandbox_server.clear()


@pytest.fixture
def sandbox(sandbox_server):
    """A freshly seeded sandbox, for tests that change upstream data."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def task_queue(settings):
    """The task queue: the database's, the embedded default. Push tests override this fixture to run on
    both backends (`tests/queues.py`)."""
    return use_queue("database", settings)


@pytest.fixture
def drain(task_queue):
    """Run the real worker until no push task is queued, delayed ones included (fails the test past 20 s)."""
    return task_queue.drain


@pytest.fixture
def pulled(sandbox, transactional_db):
    """The sandbox's demo data pulled into the local database (real commits, so the worker sees them)."""
    from django.core.management import call_command

    call_command("qwoty_pull", "--no-progress", stdout=__import__("io").StringIO())
    sandbox.clear()
    return sandbox


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite test database in a file, not in memory, so worker processes started by tests can share it."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "backoffice.db.sqlite":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
