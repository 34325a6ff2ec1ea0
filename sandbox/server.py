"""The sandbox HTTP server: Qwoty's API under /api, test controls under /__sandbox__/.

Doubles of the secondary targets are served beside it: Prioticket under
/prioticket/ and Koywe under /koywe/. Each request runs in its own thread. A
request to any of them is logged, then meets the faults (so a failure looks the
same whatever the token, in that target's error shape), then its auth, then its API.
Connections are kept alive like a real API's; `stop()` closes the open ones so
a client's pooled connection cannot reach a stopped server.
"""

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from backoffice.config.sandbox_credentials import SANDBOX_CREDENTIALS, SANDBOX_PORT
from sandbox import hostile, koywe, prioticket, seed
from sandbox.api import Api, Response
from sandbox.faults import FaultError, Faults, echoed_credentials, encode, error_text, is_count
from sandbox.koywe import KOYWE_TOKEN, Koywe
from sandbox.prioticket import PRIOTICKET_CLIENT_ID, PRIOTICKET_CLIENT_SECRET, Prioticket
from sandbox.requestlog import RequestLog
from sandbox.store import Store

DEFAULT_TOKEN = SANDBOX_CREDENTIALS["QWOTY_API_TOKEN"]
DEFAULT_PORT = SANDBOX_PORT
CONTROL_PREFIX = "/__sandbox__/"


class SandboxServer:
    """A running Qwoty double. Binds on creation (port 0 picks a free port), serves after `start()`.

    With `db_path`, data persists in that sqlite file: an existing non-empty file
    is reused as is, an empty or new one is seeded.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db_path: str | None = None,
        token: str = DEFAULT_TOKEN,
        customers: int = 300,
        seed: int = 42,
        *,
        prioticket_client_id: str = PRIOTICKET_CLIENT_ID,
        prioticket_client_secret: str = PRIOTICKET_CLIENT_SECRET,
        koywe_token: str = KOYWE_TOKEN,
        koywe_organization_id: str = koywe.KOYWE_ORGANIZATION_ID,
        koywe_merchant_id: str = koywe.KOYWE_MERCHANT_ID,
    ):
        self.customers = customers
        self.seed = seed
        self.store = Store(db_path, parent_fields={"contact": "customer_id"})
        if self.store.is_empty():
            self.store.replace_all(_seed_data(seed, customers))
        self.faults = Faults(token)
        self.requests = RequestLog()
        self.api = Api(self.store)
        self.prioticket = Prioticket(prioticket_client_id, prioticket_client_secret)
        self.koywe = Koywe(koywe_token, koywe_organization_id, koywe_merchant_id)
        self._httpd = _HTTPServer((host, port), _Handler, self)
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/api"

    def start(self) -> "SandboxServer":
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="qwoty-sandbox", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self.store.close()

    def reset(self) -> None:
        """Back to a freshly seeded workspace, with no faults, an empty request log and empty secondary targets."""
        self.store.replace_all(_seed_data(self.seed, self.customers))
        self.prioticket.reset()
        self.koywe.reset()
        self.faults.clear()
        self.requests.clear()

    def stats(self) -> dict:
        counts = self.store.counts()
        objects = {f"{kind}s": counts.get(kind, 0) for kind in ("customer", "contact", "catalog")}
        return {"objects": objects, "requests": self.requests.stats()}

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _seed_data(seed_value: int, customers: int) -> dict[str, list[dict]]:
    return seed.generate(seed=seed_value, customers=customers)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, handler, sandbox: SandboxServer):
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address):
        """Stay quiet when a client goes away; print anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "QwotySandbox/1.0"
    timeout = 60  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def log_message(self, format, *args):
        """Silence the per-request lines on stderr."""

    def handle_request(self):
        sandbox: SandboxServer = self.server.sandbox
        url = urlsplit(self.path)
        body = self.read_body()
        self.credentials = echoed_credentials(self.headers.get("Authorization"), body)  # for `echo_credentials`
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path == "/api" or url.path.startswith("/api/"):
            self.handle_api(sandbox, url.path, query, body)
        elif url.path.startswith("/prioticket/"):
            self.handle_secondary(sandbox, sandbox.prioticket, prioticket.error_body, url.path, query, body)
        elif url.path.startswith("/koywe/"):
            self.handle_secondary(sandbox, sandbox.koywe, koywe.error_body, url.path, query, body)
        elif url.path.startswith(CONTROL_PREFIX):
            self.handle_control(sandbox, url.path[len(CONTROL_PREFIX) :], query, body)
        else:
            self.send_json(404, {"success": False, "error": "Not found"})

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_request

    def handle_api(self, sandbox: SandboxServer, path: str, query: dict, body: bytes) -> None:
        def answer() -> Response:
            if not sandbox.faults.accepts(self.headers.get("Authorization")):
                return Response(401, {"success": False, "error": error_text(401)})
            return sandbox.api.handle(self.command, path, query, body)

        def error_body(path: str, status: int, error: str) -> dict:
            return {"success": False, "error": error}

        self.serve(sandbox, path, query, body, answer, error_body)

    def handle_secondary(self, sandbox: SandboxServer, target, error_body, path: str, query: dict, body: bytes):
        """A request to Prioticket's or Koywe's double: same log and faults as /api, the target's own auth."""

        def answer() -> Response:
            return target.handle(self.command, path, query, body, self.headers.get("Authorization"))

        # A token request carries the client secret: never log its body.
        logged_body = b"" if path.startswith(prioticket.OAUTH_PREFIX) else body
        self.serve(sandbox, path, query, logged_body, answer, error_body)

    def serve(self, sandbox: SandboxServer, path: str, query: dict, logged_body: bytes, answer, error_body) -> None:
        """Log the request, apply the faults, else send `answer()`; errors get the `error_body(...)` shape."""
        entry = sandbox.requests.add(self.command, path, query, logged_body)
        failure, delay = sandbox.faults.decide()
        if delay:
            time.sleep(delay)
        if failure is not None and failure.drop:
            self.drop_connection()
            return
        if failure is not None and failure.hostile is None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            response = Response(failure.status, error_body(path, failure.status, failure.error), headers)
        else:
            try:
                response = answer()
            except Exception:
                traceback.print_exc()
                response = Response(500, error_body(path, 500, "Internal server error"))
        sandbox.requests.answered(entry, response.status)
        escape, echo = sandbox.faults.answer_style()
        payload = response.payload
        if echo and isinstance(payload, dict) and self.credentials:
            payload = {**payload, "token": self.credentials}
        if failure is not None and failure.hostile is not None:  # the request is handled, its answer mangled
            hostile.send(self, failure.hostile, response.status, payload, response.headers)
        else:
            self.send_json(response.status, payload, response.headers, escape=escape)

    def handle_control(self, sandbox: SandboxServer, action: str, query: dict, body: bytes) -> None:
        action = action.rstrip("/")
        try:
            payload = control(sandbox, self.command, action, query, body)
        except FaultError as error:
            self.send_json(400, {"ok": False, "error": str(error)})
            return
        if payload is None:
            known = any(name == action for _, name in CONTROL_ROUTES)
            status, error = (405, "Method not allowed") if known else (404, "Not found")
            self.send_json(status, {"ok": False, "error": error})
        else:
            self.send_json(200, payload)

    def read_body(self) -> bytes:
        """The body by Content-Length; without a usable one, none, and the connection is not reused."""
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or "Transfer-Encoding" in self.headers:
            self.close_connection = True  # where this request ends is unknown
            return b""
        return self.rfile.read(int(length))

    def send_json(self, status: int, payload, headers: dict | None = None, *, escape: str = "none") -> None:
        data = encode(payload, escape)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def drop_connection(self) -> None:
        """Close the socket without a byte of answer: the client sees a connection error."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


CONTROL_ROUTES = (
    ("GET", "health"),
    ("GET", "faults"),
    ("POST", "faults"),
    ("POST", "faults/clear"),
    ("GET", "requests"),
    ("DELETE", "requests"),
    ("POST", "reset"),
    ("GET", "stats"),
    ("POST", "prioticket/revoke"),
    ("POST", "prioticket/token-ttl"),
    ("GET", "prioticket/tokens-issued"),
)
# Also GET prioticket/contacts/<uid> and koywe/contacts/<id>: one stored contact (404 when there is none).


def control(sandbox: SandboxServer, method: str, action: str, query: dict, body: bytes):
    """The answer to a /__sandbox__/ request, or None when no such route."""
    match (method, action):
        case ("GET", "health"):
            return {"ok": True}
        case ("GET", "faults"):
            return sandbox.faults.snapshot()
        case ("POST", "faults"):
            sandbox.faults.update(parse_control_body(body))
            return sandbox.faults.snapshot()
        case ("POST", "faults/clear"):
            sandbox.faults.clear()
            return sandbox.faults.snapshot()
        case ("GET", "requests"):
            return sandbox.requests.entries(method=query.get("method", [None])[-1])
        case ("DELETE", "requests"):
            sandbox.requests.clear()
            return {"ok": True}
        case ("POST", "reset"):
            sandbox.reset()
            return {"ok": True}
        case ("GET", "stats"):
            return sandbox.stats()
        case ("POST", "prioticket/revoke"):
            sandbox.prioticket.revoke_tokens()
            return {"ok": True}
        case ("POST", "prioticket/token-ttl"):
            settings = parse_control_body(body)
            seconds = settings.get("seconds") if isinstance(settings, dict) else None
            if not is_count(seconds):
                raise FaultError("seconds must be a non-negative integer")
            sandbox.prioticket.set_token_ttl(seconds)
            return {"seconds": seconds}
        case ("GET", "prioticket/tokens-issued"):
            return {"count": sandbox.prioticket.tokens_issued}
        case ("GET", str(path)) if path.startswith("prioticket/contacts/"):
            return sandbox.prioticket.stored_contact(unquote(path.removeprefix("prioticket/contacts/")))
        case ("GET", str(path)) if path.startswith("koywe/contacts/"):
            return sandbox.koywe.stored_contact(unquote(path.removeprefix("koywe/contacts/")))
    return None


def parse_control_body(body: bytes):
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise FaultError("Body must be a JSON object") from None
