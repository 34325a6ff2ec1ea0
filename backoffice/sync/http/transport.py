"""HTTP as every target speaks it: one session per upstream, a call streamed and capped, typed errors out.

`send()` makes one call for any target (Qwoty, Prioticket, Koywe): it never follows a redirect, refuses a path
with a `.`/`..` segment, reads at most MAX_ANSWER_BYTES, ends by a deadline, and turns every failure into an
`UpstreamError` (errors.py) carrying what the push layer stores. Credentials travel only in headers set by the
session's auth: never in a message, a log line or anything this module returns.
"""

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests
import urllib3
from django.conf import settings
from django.utils import timezone
from requests.hooks import default_hooks
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict

from backoffice.redaction import redact, redact_body, redact_url

from .errors import (
    UnsafePath,
    UpstreamAnswerTooLarge,
    UpstreamBadResponse,
    UpstreamConnectionError,
    UpstreamDeadlineExceeded,
    UpstreamTimeout,
)

logger = logging.getLogger(__name__)

# The longest answer read from any upstream: Qwoty's longest (a page of 200 customers) is a few hundred KiB.
# A longer one is refused, unread past this, so a broken or hostile upstream cannot fill a worker's memory.
MAX_ANSWER_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024  # large reads: a usual answer comes in one
# The deepest answer taken: the APIs nest four levels at most. One nested some hundred levels still decodes, but
# would raise RecursionError later, when stored (json.dumps recurses too) or shown, leaving the push unfinished.
MAX_ANSWER_DEPTH = 64


@dataclass(frozen=True)
class Answer:
    """An upstream's answer, its body read whole (at most MAX_ANSWER_BYTES) by `send()`."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        """The body decoded. Any body that is not JSON raises ValueError, however it fails (not UTF-8, nested
        too deep to decode: `"[" * 100000`, or deeper than MAX_ANSWER_DEPTH), so a caller's `except ValueError`
        holds."""
        try:
            body = json.loads(self.content)
        except RecursionError:
            raise ValueError("JSON nested too deep to decode") from None
        # Counting brackets costs next to nothing; only an answer with many is walked (a page of a list, say).
        if self.content.count(b"[") + self.content.count(b"{") > MAX_ANSWER_DEPTH and _deeper_than(body):
            raise ValueError(f"JSON nested deeper than {MAX_ANSWER_DEPTH} levels")
        return body


def _deeper_than(value, limit: int = MAX_ANSWER_DEPTH) -> bool:
    """Whether `value` nests lists and objects more than `limit` deep (walked without recursion)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        items = value.values() if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return False


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


class BearerToken(requests.auth.AuthBase):
    """The token, set on each request. As the session's auth it also stops requests from reading ~/.netrc
    on every call, which costs a file lookup each time and, with an entry for the host, would replace it."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<BearerToken>"


def new_session(base_url: str, auth: requests.auth.AuthBase | None) -> requests.Session:
    """A session for one upstream: JSON, our User-Agent, and the environment's proxy and CA settings read once."""
    session = requests.Session()
    session.auth = auth
    # Proxy and CA settings from the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE…) are read
    # once: requests would scan os.environ twice on every call, which costs a push more CPU than
    # its JSON. A session only ever calls base_url, so the answer cannot change between calls.
    environment = session.merge_environment_settings(base_url, {}, None, None, None)
    session.trust_env = False
    session.proxies, session.verify = environment["proxies"], environment["verify"]
    session.headers.update({"Accept": "application/json", "User-Agent": "qwoty-backoffice/1.0"})
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    path: str,
    name: str,
    base_url: str,
    timeout: tuple[float, float],
    deadline: float | None = None,
    **kwargs,
) -> Answer:
    """One call to `url` (`path` under `base_url`) of the upstream `name`: its answer, or our typed error.

    Never follows a redirect: requests would resend a PATCH or PUT without its body, or as a GET, and
    take the answer for a success (`redirected()` says where it pointed instead). The answer is streamed:
    one longer than MAX_ANSWER_BYTES is refused unread (UpstreamAnswerTooLarge), and the call ends by
    `deadline` (a `time.monotonic()`; default QWOTY_CALL_DEADLINE_SECONDS from now) however steadily its
    bytes come, since `timeout`'s read timeout bounds each socket read, not the whole answer.
    """
    if has_dot_segment(path):  # the HTTP library would resolve it: another endpoint, called with our credentials
        raise UnsafePath(f"Not sent: {name}'s path {redact(path)[:200]!r} has a . or .. segment")
    if deadline is None:
        deadline = time.monotonic() + settings.QWOTY_CALL_DEADLINE_SECONDS
    left = _time_left(deadline, name, method, path)
    timeout = (min(timeout[0], left), min(timeout[1], left))
    try:
        response = _request(session, method, url, timeout, kwargs)
    except requests.Timeout as exc:
        raise _timed_out(name, method, path, deadline) from without_request(exc)
    except requests.ConnectionError as exc:
        where = redact_url(base_url)
        raise UpstreamConnectionError(f"Could not reach {name} at {where}: {connection_reason(exc)}") from (
            without_request(exc)
        )
    except requests.RequestException as exc:  # a header requests refuses…
        raise unreadable(name, method, path, exc) from without_request(exc)
    body = _read_body(response, deadline, timeout[1], name=name, method=method, path=path)
    return Answer(response.status_code, response.headers, body)


def _request(session: requests.Session, method: str, url: str, timeout, kwargs: dict) -> requests.Response:
    """`session.request(method, url, allow_redirects=False, stream=True, timeout=timeout, **kwargs)`.

    For a session of `new_session()` with no cookies yet (ours: the APIs set none), the request is prepared as
    `Session.request` prepares it, without the steps that change nothing then (copying the session's empty cookie
    jar twice, reading the environment's settings `new_session()` read once already): a tenth of a call's CPU.
    Anything else takes `Session.request` itself."""
    if session.trust_env or session.cookies or any(session.hooks.values()) or kwargs.keys() - _PLAIN_ARGUMENTS:
        return session.request(method, url, allow_redirects=False, stream=True, timeout=timeout, **kwargs)
    prepared = requests.PreparedRequest()
    prepared.prepare(
        method=method.upper(),
        url=url,
        data=kwargs.get("data") or {},
        json=kwargs.get("json"),
        headers=merge_setting(kwargs.get("headers") or {}, session.headers, dict_class=CaseInsensitiveDict),
        params=merge_setting(kwargs.get("params") or {}, session.params),
        auth=session.auth,
        cookies=session.cookies,
        hooks=default_hooks(),
    )
    return session.send(
        prepared,
        allow_redirects=False,
        stream=True,
        timeout=timeout,
        proxies=session.proxies,
        verify=session.verify,
        cert=session.cert,
    )


_PLAIN_ARGUMENTS = frozenset({"data", "json", "headers", "params"})


def _read_body(response: requests.Response, deadline: float, read_timeout: float, **call) -> bytes:
    """The whole body, one socket read at a time so that the deadline is checked between reads. Read whole,
    the connection goes back to the pool; on any other way out it is closed (the rest of the answer unread)."""
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise _too_large(b"", **call)
        chunks, size = [], 0
        while chunk := _read_once(response.raw, deadline, read_timeout, **call):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise _too_large(b"".join(chunks), **call)
    except BaseException:
        response.close()
        raise
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _read_once(raw: urllib3.HTTPResponse, deadline: float, read_timeout: float, **call) -> bytes:
    """At most READ_CHUNK_BYTES of the (decoded) body, from one socket read that ends by the deadline."""
    left = _time_left(deadline, **call)
    if left < read_timeout and getattr(raw.connection, "sock", None) is not None:
        raw.connection.sock.settimeout(left)  # reset by urllib3 for the connection's next request
    try:
        return raw.read1(READ_CHUNK_BYTES, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise _timed_out(deadline=deadline, **call) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:  # an answer cut off mid-body, a broken gzip…
        raise unreadable(exc=exc, **call) from exc


def _time_left(deadline: float, name: str, method: str, path: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _timed_out(name, method, path, deadline)
    return left


def _timed_out(name: str, method: str, path: str, deadline: float) -> UpstreamTimeout:
    if time.monotonic() < deadline:
        return UpstreamTimeout(f"{name} did not answer {method} {path} in time")
    seconds = f"{settings.QWOTY_CALL_DEADLINE_SECONDS:g}"
    return UpstreamDeadlineExceeded(
        f"{name}'s answer to {method} {path} took longer than the {seconds} s a call may last"
    )


def _too_large(start: bytes, *, name: str, method: str, path: str) -> UpstreamAnswerTooLarge:
    message = f"{name}'s answer to {method} {path} is longer than {MAX_ANSWER_BYTES // 1024} KiB: not read"
    return UpstreamAnswerTooLarge(message, body=redact(start.decode("utf-8", "replace"))[:4000])


def unreadable(name: str, method: str, path: str, exc: Exception) -> UpstreamConnectionError:
    return UpstreamConnectionError(f"{name}'s answer to {method} {path} could not be read: {connection_reason(exc)}")


def has_dot_segment(path: str) -> bool:
    """Whether a segment of `path` is `.` or `..` (or dots alone): the HTTP library (and servers) resolve those,
    so `contacts/..` would be sent to the parent's URL."""
    return "." in path and any(segment and not segment.strip(".") for segment in path.split("?", 1)[0].split("/"))


def redirected(raw: Answer, *, name: str, setting: str) -> UpstreamBadResponse:
    location = redact_url(raw.headers.get("Location", "elsewhere"))
    message = f"{name} redirected the call to {location} (HTTP {raw.status_code}): check {setting}"
    return UpstreamBadResponse(message, status=raw.status_code, body=redact_body(raw.text)[:4000])


def connection_reason(exc: Exception) -> str:
    """The innermost cause, short: 'Connection refused' rather than urllib3's whole chain."""
    reason = exc
    while reason.__context__ is not None and not isinstance(reason, ConnectionRefusedError):
        reason = reason.__context__
    return redact(str(reason)[:200]) or type(exc).__name__


def without_request(exc: Exception) -> Exception:
    # requests' exceptions hold the PreparedRequest (with its Authorization header); drop it.
    exc.request = None
    return exc
