"""make scale-demo: the production topology on one machine, under concurrent staff edits, with a worker node
killed and Redis restarted mid-run; nothing may be lost, and nothing pushed twice but what was in flight.

Starts, each in a process (and process group) of its own: the sandbox upstream (its own credentials, 50 ms
a call), a fresh PostgreSQL database (migrated, the demo data pulled, static files collected), a Redis
that keeps nothing on disk, two gunicorn web nodes, two RQ worker nodes (`rqworker-pool`) and the sweep,
all with DEBUG off and TASKS_BACKEND=rq. Simulated staff (threads, each logged in with its own session
through the login page) open records' edit pages and save a new value, each request to the other web
node, as a load balancer terminating TLS would send them (X-Forwarded-Proto: https); now and then they
load a list page and search it. A third of the way in, one worker node is SIGKILLed (its whole process
group) and a new one started; two thirds in, Redis is shut down without saving and started again.

Then, once every record is synced: every record equals Qwoty's copy and each edited record holds its
last edit's value (none lost); no PATCH body reached Qwoty twice for one record beyond what the killed
node could have had in flight (once); throughput and page times are printed. Exit status 1 if a check
fails. Every process it started is stopped at the end, on failure and Ctrl-C too.
"""

import argparse
import contextlib
import io
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
import requests
from redis.exceptions import RedisError

from benchmarks.scratch import PRODUCTION, SCRATCH_CREDENTIALS, production_static_files, scratch_database, upstream_urls
from tests.sandbox_control import Sandbox

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qwoty_scale"
STALE_SECONDS = 5  # a push left behind by the killed node is queued again by the sweep within the run
# The field each kind's edit changes, to a value no other edit uses, so each PATCH body says which edit it sent.
EDITED_FIELD = {"customers": "name", "contacts": "last_name", "catalogs": "name"}
HTTP_TIMEOUT = 30
PAGES = ("edit page", "edit save", "list page", "search")


@dataclass
class Record:
    resource: str
    pk: str
    last_value: str | None = None  # the value of its last accepted edit

    @property
    def edit_path(self) -> str:
        return f"/{self.resource}/{self.pk}/edit/"


@dataclass
class Tally:
    """What the staff threads saw, shared between them."""

    edits_wanted: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    edits_started: int = 0
    edits_accepted: int = 0
    timings: dict = field(default_factory=lambda: defaultdict(list))
    errors: list = field(default_factory=list)
    stale: int = 0
    first_edit_at: float = 0.0
    last_edit_at: float = 0.0
    accepted_at: list = field(default_factory=list)  # monotonic time of each accepted edit

    def next_edit(self) -> int | None:
        with self.lock:
            if self.edits_started >= self.edits_wanted:
                return None
            self.edits_started += 1
            self.first_edit_at = self.first_edit_at or time.monotonic()
            return self.edits_started

    def accepted(self) -> None:
        with self.lock:
            self.edits_accepted += 1
            self.last_edit_at = time.monotonic()
            self.accepted_at.append(self.last_edit_at)

    def timed(self, page: str, seconds: float) -> None:
        with self.lock:
            self.timings[page].append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class FormReader(HTMLParser):
    """The (name, value) pairs a browser would submit from the first form whose attributes include `match`."""

    def __init__(self, **match):
        super().__init__(convert_charrefs=True)
        self.match, self.found, self.inside = match, False, False
        self.fields: list[tuple[str, str]] = []
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = not self.found and all(attributes.get(k) == v for k, v in self.match.items())
            self.found = self.found or self.inside
            return
        name = attributes.get("name")
        if not self.inside or "disabled" in attributes:
            return
        if tag == "input" and name:
            kind = attributes.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.fields.append((name, attributes.get("value") or ("on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and name:
            self._select, self._options = (name, "multiple" in attributes), []
        elif tag == "option" and self._select:
            self._options.append((attributes.get("value") or "", "selected" in attributes))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]  # a browser submits the first option when none is selected
            self.fields += [(name, value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.fields.append((name, text.removeprefix("\r\n").removeprefix("\n")))  # HTML drops that newline
            self._textarea = None


def form_fields(html: str, **match) -> list[tuple[str, str]]:
    reader = FormReader(**match)
    reader.feed(html)
    if not reader.found:
        raise ValueError(f"no form with {match} in the page")
    return reader.fields


class BalancedSession(requests.Session):
    """A browser's session as the web nodes see it behind a load balancer that ends TLS: the request says it
    came over https (X-Forwarded-Proto, trusted from 127.0.0.1 by gunicorn), and the session's Secure
    cookies (session, CSRF: production settings) go with it although this last hop is plain http."""

    def __init__(self):
        super().__init__()
        self.headers["X-Forwarded-Proto"] = "https"
        self.cookies.set_policy(DefaultCookiePolicy(secure_protocols=("https", "http")))

    def prepare_request(self, request):
        prepared = super().prepare_request(request)
        # requests merges the cookies into a new jar with the default policy, which drops Secure cookies on http.
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(self.cookies)
        return prepared


class StaffMember:
    """One person at the back office: a browser session, logged in, editing their own records."""

    def __init__(self, *, username: str, password: str, nodes: list[str], records: list[Record], seed: int):
        self.username, self.password, self.nodes, self.records = username, password, nodes, records
        self.rng = random.Random(seed)
        self.requests_made = seed  # staff start on different nodes
        self.http = BalancedSession()

    def node(self) -> str:
        """The next web node, taking turns as a round-robin load balancer would."""
        self.requests_made += 1
        return self.nodes[self.requests_made % len(self.nodes)]

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        node = self.node()
        headers = {"Origin": origin(node), **kwargs.pop("headers", {})} if method == "POST" else {}
        return self.http.request(
            method, f"{node}{path}", headers=headers, timeout=HTTP_TIMEOUT, allow_redirects=False, **kwargs
        )

    def log_in(self) -> None:
        page = self.request("GET", "/accounts/login/")
        fields = dict(form_fields(page.text, action="/accounts/login/"))
        fields |= {"username": self.username, "password": self.password}
        answer = self.request("POST", "/accounts/login/", data=fields)
        if answer.status_code != 302:
            raise RuntimeError(f"{self.username} could not log in: {answer.status_code}")

    def work(self, tally: Tally, *, list_every: int, think: float, stopping: threading.Event) -> None:
        done = 0
        while not stopping.is_set():
            number = tally.next_edit()
            if number is None:
                return
            record = self.rng.choice(self.records)
            try:
                self.edit(record, number, tally)
                done += 1
                if list_every and done % list_every == 0:
                    self.browse(record.resource, tally)
            except (requests.RequestException, ValueError) as exc:  # no answer, or a page without its form
                tally.error(f"{self.username} edit {number}: {type(exc).__name__}: {exc}")
            if think:
                time.sleep(self.rng.uniform(0, 2 * think))

    def edit(self, record: Record, number: int, tally: Tally) -> None:
        started = time.perf_counter()
        page = self.request("GET", record.edit_path)
        tally.timed("edit page", time.perf_counter() - started)
        if page.status_code != 200:
            tally.error(f"GET {record.edit_path}: {page.status_code}")
            return
        value = f"scale {number}"
        name = EDITED_FIELD[record.resource]
        fields = [(key, value if key == name else current) for key, current in form_fields(page.text, id="record-form")]
        htmx = {"HX-Request": "true", "HX-Target": "record-form", "HX-Current-URL": page.url}
        started = time.perf_counter()
        answer = self.request("POST", record.edit_path, data=fields, headers=htmx)
        tally.timed("edit save", time.perf_counter() - started)
        if answer.status_code == 200 and "Saved. Sending to Qwoty" in answer.text:
            record.last_value = value  # one person edits a record: its edits are accepted in this order
            tally.accepted()
        elif answer.status_code == 409:
            with tally.lock:
                tally.stale += 1
        else:
            tally.error(f"POST {record.edit_path} ({value}): {answer.status_code} {answer.text[:200]!r}")

    def browse(self, resource: str, tally: Tally) -> None:
        term = f"scale {self.rng.randint(1, max(tally.edits_started, 1))}"
        for page, params in (("list page", {}), ("search", {"q": term})):
            started = time.perf_counter()
            answer = self.request("GET", f"/{resource}/", params=params)
            tally.timed(page, time.perf_counter() - started)
            if answer.status_code != 200:
                tally.error(f"GET /{resource}/ {params}: {answer.status_code}")


def origin(url: str) -> str:
    """What a browser sends as Origin for a page of `url`: the load balancer's https origin."""
    return f"https://{urlsplit(url).netloc}"


class Fleet:
    """The processes of this run, each the leader of its own process group, with its output in a log file.

    Stopping one ends its whole group (gunicorn's and rqworker-pool's children included).
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.expected_exits: set[int] = set()
        self.services: set[int] = set()
        self.closed = False
        self._lock = threading.Lock()  # the director thread starts processes too

    def start(self, name: str, argv: list[str], env: dict, *, service: bool = False) -> subprocess.Popen:
        """Start `argv`; a `service` (Redis, the upstream) is stopped after every node, whenever it started."""
        with self._lock, open(self.folder / f"{name}.log", "ab") as log:
            if self.closed:
                raise FleetClosed(f"not starting {name}: the run is stopping")
            process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            self.started.append((name, process))
            if service:
                self.services.add(process.pid)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the process and every process of its group at once: a node dying."""
        self.expected_exits.add(process.pid)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self, process: subprocess.Popen, *, timeout: float = 25) -> None:
        """SIGTERM to the leader (a graceful stop), then SIGKILL to whatever of its group is left."""
        self.expected_exits.add(process.pid)
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)
        if _group_alive(process.pid):
            _signal_group(process.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while _group_alive(process.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        if process.poll() is None:
            process.wait()

    def stop_all(self) -> None:
        """Stop every process, nodes before services, the last started first; none starts after this."""
        with self._lock:
            self.closed = True
        last_first = list(reversed(self.started))
        for _, process in sorted(last_first, key=lambda started: started[1].pid in self.services):
            self.stop(process)

    def unexpected_exits(self) -> list[str]:
        """Processes that ended by themselves before being stopped."""
        return [
            f"{name} (pid {process.pid}, exit {process.returncode})"
            for name, process in self.started
            if process.pid not in self.expected_exits and process.poll() is not None
        ]

    def left_running(self) -> list[str]:
        return [f"{name} (group {process.pid})" for name, process in self.started if _group_alive(process.pid)]


class FleetClosed(RuntimeError):
    pass


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies waiting for their parent to read them aside)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class OwnRedis:
    """A redis-server of this run's own, keeping nothing on disk: a restart loses every queued job."""

    def __init__(self, fleet: Fleet, port: int):
        self.fleet, self.port = fleet, port
        self.url = f"redis://127.0.0.1:{port}/0?socket_connect_timeout=2"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is missing: sudo apt-get update && sudo apt-get install -y redis-server")
        if port_answers(self.port):
            raise RuntimeError(f"something already listens on port {self.port}: pick another with --redis-port")
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = self.fleet.start(
            "redis", [*argv, "--dir", str(self.fleet.folder)], dict(os.environ), service=True
        )
        wait_for(lambda: self.client().ping(), what=f"Redis on port {self.port}", timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def restart(self, *, down_seconds: float) -> None:
        """SHUTDOWN NOSAVE, `down_seconds` without Redis, then a new, empty one on the same port."""
        with contextlib.suppress(RedisError):  # the server closes the connection as it goes
            self.client().shutdown(nosave=True)
        self.fleet.expected_exits.add(self.process.pid)
        self.process.wait(timeout=10)
        time.sleep(down_seconds)
        self.start()


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    error = None
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, requests.RequestException, RedisError) as exc:  # not up yet: the last one is reported
            error = exc
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {timeout:.0f}s" + (f": {error}" if error else ""))


def recreate_database(url: str) -> None:
    """Drop and create the database `url` names (on its server's `postgres` database)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a plain database name: {name!r}")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server.replace("postgres://", "postgresql://", 1), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def create_staff(count: int) -> list[tuple[str, str]]:
    """`count` Sales Ops users with random passwords: (username, password)."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from backoffice.accounts import roles

    sales_ops = Group.objects.get(name=roles.SALES_OPS)
    staff = []
    for number in range(1, count + 1):
        username, password = f"scale-staff-{number}", secrets.token_urlsafe(16)
        user = get_user_model().objects.create_user(username=username, password=password)
        user.groups.set([sales_ops])
        staff.append((username, password))
    return staff


def pick_records(count: int, rng: random.Random) -> tuple[list[Record], list[Record]]:
    """`count` records at random whose edit form, sent back as it opens, is accepted; and those left out.

    Some seeded contacts hold a phone number that phonenumbers finds invalid for its country: their form
    refuses any save until the phone is fixed, whichever field the person changed.
    """
    from django.utils.datastructures import MultiValueDict

    from backoffice.sync import mirror as mirrors
    from catalogs.forms import CatalogForm
    from contacts.forms import ContactForm
    from customers.forms import CustomerForm

    forms = {"customers": CustomerForm, "contacts": ContactForm, "catalogs": CatalogForm}
    pool = [
        (mirror.resource, record) for mirror in mirrors.all_mirrors() for record in mirror.model.objects.order_by("pk")
    ]
    picked, refused = [], []
    for resource, record in rng.sample(pool, len(pool)):
        if len(picked) == count:
            break
        form = forms[resource](instance=record)
        data = MultiValueDict()
        for name, value in form_fields(f'<form id="record-form">{form.render()}</form>', id="record-form"):
            data.appendlist(name, value)
        accepted = forms[resource](data, instance=record).is_valid()
        (picked if accepted else refused).append(Record(resource, str(record.pk)))
    return picked, refused


def lost_records(records: list[Record]) -> list[str]:
    """Records whose copy at Qwoty differs from ours (`harness.differences_with_upstream`), and edited ones not
    holding their last edit's value."""
    from backoffice.sync import mirror as mirrors
    from tests import harness

    upstream = {mirror.resource: harness.fetch_upstream(mirror.resource) for mirror in mirrors.all_mirrors()}
    problems = harness.differences_with_upstream(upstream)
    edited = {(r.resource, r.pk): r.last_value for r in records if r.last_value is not None}
    for (resource, pk), expected in edited.items():
        mirror, name = mirrors.get(resource), EDITED_FIELD[resource]
        theirs = upstream[resource].get(pk)
        if theirs is None:
            continue  # told above
        ours = mirror.values(mirror.model.objects.get(pk=pk))[name]
        theirs = mirror.upstream_values(theirs)[name]
        if ours != expected or theirs != expected:
            problems.append(f"{resource} {pk}: last edit {expected!r}, ours {ours!r}, Qwoty's {theirs!r}")
    return problems


def duplicate_patches(patches: list[dict]) -> list[str]:
    """PATCHes Qwoty applied with a body it had applied to the same record before: one entry per extra copy.

    Every edit writes a value no other edit writes, so only a push sent again repeats a body. One refused
    (a 503 with --error-rate) was not applied: sending it again is a retry, not a duplicate.
    """
    applied = [entry for entry in patches if entry["status"] and 200 <= entry["status"] < 300]
    seen = Counter((entry["path"], json.dumps(entry["body"], sort_keys=True)) for entry in applied)
    return [
        f"{path} {body} sent {count} times"
        for (path, body), count in seen.items()
        if count > 1
        for _ in range(count - 1)
    ]


def log_lines(fleet: Fleet, prefix: str, pattern: str) -> list[re.Match]:
    found = []
    for log in sorted(fleet.folder.glob(f"{prefix}*.log")):
        found += [m for m in (re.search(pattern, line) for line in log.read_text(errors="replace").splitlines()) if m]
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, default=8, help="simulated staff, each a thread with its own login")
    parser.add_argument("--edits", type=int, default=1200, help="edits in all")
    parser.add_argument("--records", type=int, default=200, help="records edited, shared out among the staff")
    parser.add_argument("--list-every", type=int, default=3, help="a list page and a search after every N edits")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a person waits between edits")
    parser.add_argument("--customers", type=int, default=200, help="customers the sandbox seeds (~2.7 contacts each)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per web node")
    parser.add_argument("--web-threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--rq-workers", type=int, default=2, help="RQ workers per worker node (pushes in flight)")
    parser.add_argument("--latency-ms", type=int, default=50, help="the sandbox's delay before every answer")
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="share of Qwoty's answers that are 503s (pushes retried later)"
    )
    parser.add_argument("--redis-port", type=int, default=6391, help="the port of this run's own Redis")
    parser.add_argument("--redis-down", type=float, default=2.0, help="seconds without Redis at the restart")
    parser.add_argument("--sync-timeout", type=float, default=180.0, help="longest wait for every record to sync")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SCALE_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a PostgreSQL database this run drops and creates",
    )
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`cmd &`)
    fleet = Fleet(Path(tempfile.mkdtemp(prefix="qwoty-scale-")))
    stopping = threading.Event()
    try:
        return run(args, fleet, stopping)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything this run started…", flush=True)
        return 130
    finally:
        stopping.set()
        fleet.stop_all()
        print(f"logs: {fleet.folder}")
        print(f"processes left running: {', '.join(fleet.left_running()) or 'none'}")


def interrupted(*_) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the run as Ctrl-C does: through the `finally` that stops the fleet


def start_sandbox(fleet: Fleet, *, customers: int) -> Sandbox:
    """The sandbox upstream in a process group of its own, with this run's credentials (production refuses
    the sandbox's public ones), on a free port."""
    flags = [f"--{name.lower().replace('_', '-')}={value}" for name, value in SCRATCH_CREDENTIALS.items()]
    argv = [sys.executable, "-m", "sandbox", "--port", "0", "--customers", str(customers), *flags]
    process = fleet.start("sandbox", argv, dict(os.environ), service=True)
    log = fleet.folder / "sandbox.log"
    found = []

    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox exited: see {log}")
        found[:] = re.findall(r"listening on (\S+)", log.read_text())
        return bool(found)

    wait_for(listening, what="the sandbox", timeout=30)
    return Sandbox(found[0], token=SCRATCH_CREDENTIALS["QWOTY_API_TOKEN"], process=process)


@dataclass
class Topology:
    """What runs: the upstream, the queue, the web nodes' URLs and the worker nodes, started with `env`."""

    sandbox: Sandbox
    redis: OwnRedis
    env: dict
    nodes: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_worker_node(self, fleet: Fleet, number: int, rq_workers: int) -> None:
        pool = [sys.executable, "manage.py", "rqworker-pool", "default", "--num-workers", str(rq_workers)]
        self.workers.append(fleet.start(f"worker-{number}", pool, self.env))


def run(args, fleet: Fleet, stopping: threading.Event) -> int:
    started_at = time.monotonic()
    topology, records, refused, team = prepare(args, fleet)
    start_nodes(args, fleet, topology)
    print(
        f"scale demo: {len(records)} records, {args.edits} edits by {args.staff} staff over 2 web nodes "
        f"({args.web_workers} workers of {args.web_threads} threads each), 2 worker nodes of {args.rq_workers} RQ "
        f"workers, Redis on port {args.redis_port}, PostgreSQL {urlsplit(args.database_url).path.lstrip('/')}, "
        f"Qwoty answering in {args.latency_ms} ms; ready in {time.monotonic() - started_at:.0f}s",
        flush=True,
    )
    if refused:
        print(f"  left out {len(refused)} records whose edit form refuses its own values (a stored phone number)")
    staff = [
        StaffMember(
            username=username, password=password, nodes=topology.nodes, records=records[i :: args.staff], seed=i
        )
        for i, (username, password) in enumerate(team)
    ]
    log_in_all(staff)
    topology.sandbox.faults(latency_ms=args.latency_ms, error_rate=args.error_rate, fault_seed=args.seed)
    topology.sandbox.clear_log()
    tally, events = drive(args, fleet, topology, staff, stopping)
    print(
        f"  {tally.edits_accepted} edits accepted in {tally.last_edit_at - tally.first_edit_at:.1f}s; "
        "waiting for every push…",
        flush=True,
    )
    return report(args, fleet, topology, records, tally, events)


def prepare(args, fleet: Fleet) -> tuple[Topology, list[Record], list[Record], list[tuple[str, str]]]:
    """Redis, the sandbox, a fresh database with the demo data pulled, static files, the staff's logins, and
    the records to edit. Django is set up in this process as on every node, for the checks."""
    recreate_database(args.database_url)
    redis_server = OwnRedis(fleet, args.redis_port)
    redis_server.start()
    sandbox = start_sandbox(fleet, customers=args.customers)
    settings = {
        **PRODUCTION,
        **upstream_urls(sandbox.base_url),
        "ALLOWED_HOSTS": "127.0.0.1",
        "TASKS_BACKEND": "rq",
        "REDIS_URL": redis_server.url,
        "CONN_MAX_AGE": 600,
        "QWOTY_PUSH_STALE_SECONDS": STALE_SECONDS,
        "QWOTY_PUSH_RATE_PER_SECOND": 0,  # the capacity of the nodes, not Qwoty's rate limit
        "LOG_LEVEL": "WARNING",
    }
    os.environ["SCRATCH_DATABASE_URL"] = args.database_url
    scratch_database(settings)
    from django.core.management import call_command
    from django.db import connection

    from tests import harness

    call_command("qwoty_pull", "--no-progress", stdout=io.StringIO())
    production_static_files()
    team = create_staff(args.staff)
    records, refused = pick_records(args.records, random.Random(args.seed))
    connection.close()
    return Topology(sandbox, redis_server, harness.process_env(**settings)), records, refused, team


def start_nodes(args, fleet: Fleet, topology: Topology) -> None:
    """Two gunicorn web nodes, two RQ worker nodes and the sweep; back once they all answer."""
    for number in (1, 2):
        port = free_port()
        web_env = topology.env | {
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(args.web_workers),
            "GUNICORN_THREADS": str(args.web_threads),
        }
        gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backoffice.config.wsgi"]
        fleet.start(f"web-{number}", gunicorn, web_env)
        topology.nodes.append(f"http://127.0.0.1:{port}")
    for number in (1, 2):
        topology.start_worker_node(fleet, number, args.rq_workers)
    fleet.start("sweep", [sys.executable, "manage.py", "qwoty_sweep", "--every", "1"], topology.env)
    for node in topology.nodes:
        wait_for(lambda node=node: requests.get(f"{node}/healthz", timeout=5).ok, what=node, timeout=60)
    wait_for(lambda: rq_workers(topology.redis) >= 2 * args.rq_workers, what="the RQ workers", timeout=60)


def drive(
    args, fleet: Fleet, topology: Topology, staff: list[StaffMember], stopping: threading.Event
) -> tuple[Tally, dict]:
    """The staff at work; a third of the way in a worker node dies, two thirds in Redis restarts."""
    tally = Tally(edits_wanted=args.edits)
    events: dict = {}

    def director() -> None:
        wait_edits(tally, args.edits // 3, stopping)
        if stopping.is_set():
            return
        events["killed at"] = tally.edits_accepted
        fleet.kill(topology.workers[0])
        topology.start_worker_node(fleet, 3, args.rq_workers)
        print(f"  edit {events['killed at']}: worker node 1 SIGKILLed, worker node 3 started", flush=True)
        wait_edits(tally, 2 * args.edits // 3, stopping)
        if stopping.is_set():
            return
        down_from, events["restarted at"] = time.monotonic(), tally.edits_accepted
        topology.redis.restart(down_seconds=args.redis_down)
        events["redis down"] = (down_from, time.monotonic())
        print(f"  edit {events['restarted at']}: Redis shut down without saving, and started again", flush=True)

    def directing() -> None:
        with contextlib.suppress(FleetClosed):  # interrupted: the fleet is being stopped
            director()

    work = {"list_every": args.list_every, "think": args.think, "stopping": stopping}
    threads = [threading.Thread(target=member.work, args=(tally,), kwargs=work, daemon=True) for member in staff]
    threads.append(threading.Thread(target=directing, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, events


def report(args, fleet: Fleet, topology: Topology, records: list[Record], tally: Tally, events: dict) -> int:
    """Wait until every record is synced, check that none was lost and none pushed twice, print the figures."""
    from backoffice.sync.models import PushAttempt
    from tests import harness

    synced = harness.wait_until_all_synced(timeout=args.sync_timeout, poll=0.25)
    synced_at = time.monotonic()
    topology.sandbox.clear_faults()  # the checks read Qwoty's copies: no 503 nor delay for them
    problems = lost_records(records)
    lost = {" ".join(line.split(" ")[:2]) for line in problems}
    unsynced = harness.unsynced_count()
    patches = topology.sandbox.received("PATCH")
    duplicates = duplicate_patches(patches)
    in_flight_bound = args.rq_workers  # one push at a time per RQ worker of the node killed
    down_from, down_until = events.get("redis down", (0, 0))
    while_down = sum(1 for at in tally.accepted_at if down_from <= at <= down_until)
    not_queued = len(log_lines(fleet, "web-", r"Could not queue"))
    sweeps = log_lines(fleet, "sweep", r"sweep: (\d+) stale, (\d+) overdue")
    unexpected = fleet.unexpected_exits()
    edit_seconds = tally.last_edit_at - tally.first_edit_at

    print(f"edits: {tally.edits_accepted} accepted of {args.edits} ({tally.stale} refused as stale)")
    print(
        f"pushes: {len(patches)} PATCHes received by Qwoty ({PushAttempt.objects.count()} attempts stored), "
        f"{len({entry['path'] for entry in patches})} records; "
        f"{len([e for e in patches if not 200 <= (e['status'] or 0) < 300])} answered other than 2xx"
    )
    print(
        f"events: worker node killed at edit {events.get('killed at', '-')}; Redis down {down_until - down_from:.1f}s "
        f"from edit {events.get('restarted at', '-')}, {while_down} edits accepted meanwhile, "
        f"{not_queued} saves could not queue their push"
    )
    print(
        f"sweep re-queued: {sum(int(m[1]) for m in sweeps)} stale pushes (cut short by the kill), "
        f"{sum(int(m[2]) for m in sweeps)} overdue (their job lost with the node or Redis, or never queued)"
    )
    print(f"lost: {len(lost)} records (not synced: {unsynced})")
    for line in problems[:20]:
        print(f"  {line}")
    print(f"duplicates: {len(duplicates)} (at most {in_flight_bound}: the pushes the killed node could have in flight)")
    for line in duplicates[:10]:
        print(f"  {line}")
    if synced and edit_seconds > 0:
        print(
            f"throughput: {tally.edits_accepted / edit_seconds:.1f} edits/s accepted, "
            f"{len(patches) / (synced_at - tally.first_edit_at):.1f} pushes/s from the first edit until all synced; "
            f"all synced {synced_at - tally.last_edit_at:.1f}s after the last edit"
        )
    else:
        print("throughput: not measured (never synced, or no edit)")
    for page in PAGES:
        times = tally.timings[page]
        print(
            f"  {page:<10} n={len(times):<5} p50 {percentile(times, 0.5) * 1000:6.0f} ms   "
            f"p95 {percentile(times, 0.95) * 1000:6.0f} ms   max {max(times, default=float('nan')) * 1000:6.0f} ms"
        )
    print(f"HTTP errors: {len(tally.errors)}")
    for line in tally.errors[:10]:
        print(f"  {line}")
    if unexpected:
        print(f"processes that ended by themselves: {', '.join(unexpected)}")
    checks = {
        "every record synced": synced and not unsynced,
        "none lost": not problems,
        "once (duplicates within what was in flight)": len(duplicates) <= in_flight_bound,
        "every edit accepted": tally.edits_accepted == args.edits,
        "no HTTP error": not tally.errors,
        "no process ended by itself": not unexpected,
        "the kill and the Redis restart happened": "killed at" in events and "redis down" in events,
    }
    failed = [name for name, ok in checks.items() if not ok]
    print("result: " + (f"FAILED ({'; '.join(failed)})" if failed else "passed"))
    return 1 if failed else 0


def log_in_all(team: list[StaffMember]) -> None:
    """Everyone logs in at once, through the login page; one who cannot stops the run."""
    failures = []

    def log_in(member: StaffMember) -> None:
        try:
            member.log_in()
        except (RuntimeError, ValueError, requests.RequestException) as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=log_in, args=(member,)) for member in team]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(team)} staff could not log in: {failures[0]}")


def wait_edits(tally: Tally, count: int, stopping: threading.Event) -> None:
    while tally.edits_accepted < count and not stopping.is_set() and tally.edits_started < tally.edits_wanted:
        time.sleep(0.02)


def rq_workers(redis_server: OwnRedis) -> int:
    from rq import Worker

    return Worker.count(connection=redis_server.client())


if __name__ == "__main__":
    sys.exit(main())
