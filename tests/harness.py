"""Real worker processes against the test database and the sandbox: for kill, concurrency, chaos and bench runs."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from backoffice.sync import connectors
from backoffice.sync import mirror as mirrors
from backoffice.sync.models import SyncStatus
from backoffice.sync.qwoty import QwotyClient

ROOT = Path(__file__).resolve().parent.parent
SECONDARY_TARGET_SETTINGS = (
    *("PRIOTICKET_API_URL", "PRIOTICKET_TOKEN_URL", "PRIOTICKET_CLIENT_ID", "PRIOTICKET_CLIENT_SECRET"),
    *("KOYWE_API_URL", "KOYWE_API_TOKEN", "KOYWE_ORGANIZATION_ID", "KOYWE_MERCHANT_ID"),
)


def database_url() -> str:
    """A DATABASE_URL for the database this process is connected to (the test database during tests)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def process_env(**extra) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "QWOTY_API_URL": settings.QWOTY_API_URL,
        "QWOTY_API_TOKEN": settings.QWOTY_API_TOKEN,
        **{name: getattr(settings, name) for name in SECONDARY_TARGET_SETTINGS},
        "QWOTY_RETRY_BASE_SECONDS": str(settings.QWOTY_RETRY_BASE_SECONDS),
        "QWOTY_RETRY_MAX_SECONDS": str(settings.QWOTY_RETRY_MAX_SECONDS),
        "QWOTY_PUSH_MAX_ATTEMPTS": str(settings.QWOTY_PUSH_MAX_ATTEMPTS),
        "QWOTY_PUSH_STALE_SECONDS": str(settings.QWOTY_PUSH_STALE_SECONDS),
        "QWOTY_PUSH_RATE_PER_SECOND": str(settings.QWOTY_PUSH_RATE_PER_SECOND),
        "QWOTY_CIRCUIT_FAILURES": str(settings.QWOTY_CIRCUIT_FAILURES),
        "QWOTY_CIRCUIT_MAX_SECONDS": str(settings.QWOTY_CIRCUIT_MAX_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_worker(*, threads: int = 0, **env) -> subprocess.Popen:
    """A worker process polling often: `db_worker`, or `qwoty_worker --threads N`. Its output goes to a log
    file, never a pipe nobody reads (a full pipe would block the worker)."""
    command = (
        ["qwoty_worker", "--threads", str(threads)] if threads else ["db_worker", "--no-reload", "--no-startup-delay"]
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", *command, "--interval", "0.05"],
        cwd=ROOT,
        env=process_env(**env),
        stdout=_log_file(),
        stderr=subprocess.STDOUT,
    )


def _log_file():
    return tempfile.NamedTemporaryFile(prefix="qwoty-worker-", suffix=".log", delete=False)


def sweeper(**env) -> subprocess.Popen:
    """`manage.py qwoty_sweep --every 1` as its own process."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "qwoty_sweep", "--every", "1"],
        cwd=ROOT,
        env=process_env(**env),
        stdout=_log_file(),
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen, *, kill: bool = False) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def unsynced_count() -> int:
    """Records, and contacts' links to the secondary targets, not synced yet."""
    models = [m.model for m in mirrors.all_mirrors()] + [c.model for c in connectors.all_connectors()]
    return sum(model.objects.exclude(sync_status=SyncStatus.SYNCED).count() for model in models)


def wait_until_all_synced(*, timeout: float, poll: float = 0.1, on_wait=None) -> bool:
    return _poll_until(lambda: unsynced_count() == 0, timeout=timeout, poll=poll, on_wait=on_wait)


def wait_until_no_task_ready(*, timeout: float) -> bool:
    """Until the worker has taken every task that is due (queued ones with a later `run_after` aside)."""
    from django_tasks_db.models import DBTaskResult

    return _poll_until(lambda: not DBTaskResult.objects.ready().exists(), timeout=timeout, poll=0.05)


def _poll_until(condition, *, timeout: float, poll: float, on_wait=None) -> bool:
    """Whether `condition()` came true within `timeout` seconds, checked every `poll` seconds (and once at the end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if on_wait:
            on_wait()
        time.sleep(poll)
    return condition()


def fetch_upstream(resource: str) -> dict[str, dict]:
    """Every upstream object of a resource, by id, read through the list endpoint."""
    client = QwotyClient()
    objects, page = {}, 1
    while True:
        response = client.list_page(resource, page=page)
        objects.update({item["id"]: item for item in response.data})
        if page >= response.body["pagination"]["total_pages"]:
            return objects
        page += 1


def differences_with_upstream(upstream: dict[str, dict] | None = None) -> list[str]:
    """Records whose local values differ from Qwoty's, field by field. `upstream`: each resource's objects by id
    (`fetch_upstream`'s), read here if not given."""
    problems = []
    for mirror in mirrors.all_mirrors():
        objects = upstream[mirror.resource] if upstream is not None else fetch_upstream(mirror.resource)
        for record in mirror.model.objects.all():
            theirs = objects.get(str(record.pk))
            if theirs is None:
                problems.append(f"{mirror.resource} {record.pk}: missing upstream")
                continue
            ours, theirs = mirror.values(record), mirror.upstream_values(theirs)
            problems += [
                f"{mirror.resource} {record.pk} {name}: local {ours[name]!r} != upstream {theirs[name]!r}"
                for name in mirror.fields
                if ours[name] != theirs[name]
            ]
    return problems


def link_differences(sandbox) -> list[str]:
    """Contacts linked to Prioticket whose copy there differs from ours (Prioticket's is read off the sandbox)."""
    from contacts.models import PrioticketLink

    problems = []
    for link in PrioticketLink.objects.select_related("contact"):
        theirs = sandbox.http.get(f"{sandbox.control}/prioticket/contacts/{link.contact_uid}", timeout=10)
        if theirs.status_code != 200:
            problems.append(f"prioticket {link.contact_id}: missing there")
            continue
        stored, contact = theirs.json(), link.contact
        ours = {"contact_name_first": contact.first_name, "contact_name_last": contact.last_name}
        ours |= {"contact_email": contact.email, "contact_phone": contact.phone}
        problems += [
            f"prioticket {link.contact_id} {name}: local {value!r} != theirs {stored.get(name)!r}"
            for name, value in ours.items()
            if stored.get(name) != value
        ]
    return problems


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
