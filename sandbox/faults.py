"""Switchable failures for /api requests, so the push layer's retries can be tested, and hostile answers.

Settings are changed at run time (POST /__sandbox__/faults) and read by every
request thread, hence the lock. For each request `decide()` picks at most one
failure, in this order: the next scripted answer, an outage, then one random
draw split into drop, 503 and 429 slices (rates summing above 1 cut the later
slices). Latency applies to every answer, failures included. The random
draws use their own `random.Random`, seeded with `fault_seed` for repeatable
tests. A scripted answer may also be hostile (`hostile.py`): the real answer,
nested too deep, padded past any sane length, or trickled a byte at a time.

Hostile answers, for the redaction of what is stored and shown: `escape` writes
answers with the JSON escapes some encoders use ("html": <, > and & as Go's
encoding/json writes them; "all": every character of every string as \\uXXXX),
which a search of the raw text misses and any JSON reader decodes;
`echo_credentials` adds to every answer object a "token": the bearer token the
request came with, or a token request's client secret.
"""

import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from http import HTTPStatus
from urllib.parse import parse_qs

from sandbox.hostile import DEFAULT_BYTE_MS, DEFAULT_SIZE, MODES, Hostile

RATES = ("error_rate", "drop_rate", "rate_limit_rate")
ESCAPES = ("none", "html", "all")
DEFAULT_RETRY_AFTER = 1
ERRORS = {
    401: "Invalid API token",
    429: "Rate limit exceeded",
    503: "Service unavailable",
}


@dataclass(frozen=True)
class Failure:
    """One failed answer: `drop` closes the connection, `hostile` mangles the real answer, else `status` with
    `error`."""

    drop: bool = False
    status: int = 0
    error: str = ""
    retry_after: int | None = None
    hostile: Hostile | None = None


def error_text(status: int) -> str:
    return ERRORS.get(status) or HTTPStatus(status).phrase


class FaultError(ValueError):
    """A fault setting that cannot be applied; the message says which and why."""


class Faults:
    def __init__(self, token: str):
        self._original_token = token
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """No failures, no latency, the original token."""
        with self._lock:
            self.latency_ms = 0
            self.error_rate = self.drop_rate = self.rate_limit_rate = 0.0
            self.retry_after = DEFAULT_RETRY_AFTER
            self.outage = False
            self._outage_until = 0.0
            self._script: deque[Failure] = deque()
            self.token = self._original_token
            self._rng = random.Random()
            self.escape = "none"
            self.echo_credentials = False

    def update(self, settings) -> None:
        """Merge `settings`; all are checked before any is applied."""
        if not isinstance(settings, dict):
            raise FaultError("Body must be a JSON object")
        checked = {name: check_setting(name, value) for name, value in settings.items()}
        with self._lock:
            for name, value in checked.items():
                if name == "outage_seconds":
                    self._outage_until = time.monotonic() + value if value else 0.0
                elif name == "script":
                    self._script = deque(value)
                elif name == "fault_seed":
                    self._rng = random.Random(value)
                else:
                    setattr(self, name, value)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "error_rate": self.error_rate,
                "drop_rate": self.drop_rate,
                "rate_limit_rate": self.rate_limit_rate,
                "retry_after": self.retry_after,
                "outage": self.outage,
                "outage_seconds": round(max(self._outage_until - time.monotonic(), 0.0), 3),
                "script": [script_entry(failure) for failure in self._script],
                "token_changed": self.token != self._original_token,
                "escape": self.escape,
                "echo_credentials": self.echo_credentials,
            }

    def decide(self) -> tuple[Failure | None, float]:
        """The failure for the next /api request (or None) and the seconds to wait first."""
        with self._lock:
            delay = self.latency_ms / 1000
            if self._script:
                failure = self._script.popleft()
                if failure.status == 429 and failure.retry_after is None:
                    failure = replace(failure, retry_after=self.retry_after)
                return failure, delay
            if self.outage or time.monotonic() < self._outage_until:
                return Failure(status=503, error=error_text(503)), delay
            draw = self._rng.random()
            if draw < self.drop_rate:
                return Failure(drop=True), delay
            if draw < self.drop_rate + self.error_rate:
                return Failure(status=503, error=error_text(503)), delay
            if draw < self.drop_rate + self.error_rate + self.rate_limit_rate:
                return Failure(status=429, error=error_text(429), retry_after=self.retry_after), delay
            return None, delay

    def answer_style(self) -> tuple[str, bool]:
        """How answers are written: (`escape`, `echo_credentials`)."""
        with self._lock:
            return self.escape, self.echo_credentials

    def accepts(self, authorization: str | None) -> bool:
        with self._lock:
            token = self.token
        return authorization == f"Bearer {token}"


def check_setting(name: str, value):
    """The value to store for one setting, or FaultError."""
    if name in RATES:
        if not is_number(value) or not 0 <= value <= 1:
            raise FaultError(f"{name} must be a number between 0 and 1")
        return float(value)
    if name in ("latency_ms", "retry_after"):
        if not is_count(value):
            raise FaultError(f"{name} must be a non-negative integer")
        return value
    if name == "outage_seconds":
        if not is_number(value) or value < 0:
            raise FaultError("outage_seconds must be a non-negative number")
        return float(value)
    if name in ("outage", "echo_credentials"):
        if not isinstance(value, bool):
            raise FaultError(f"{name} must be a boolean")
        return value
    if name == "escape":
        if value not in ESCAPES:
            raise FaultError(f"escape must be one of {', '.join(ESCAPES)}")
        return value
    if name == "token":
        if not isinstance(value, str) or not value:
            raise FaultError("token must be a non-empty string")
        return value
    if name == "fault_seed":
        if not isinstance(value, int | str) or isinstance(value, bool):
            raise FaultError("fault_seed must be an integer or a string")
        return value
    if name == "script":
        if not isinstance(value, list):
            raise FaultError("script must be a list")
        return [scripted_failure(index, entry) for index, entry in enumerate(value)]
    raise FaultError(f"Unknown fault: {name}")


def scripted_failure(index: int, entry) -> Failure:
    """`{"drop": true}`, `{"status": 503, "error": "...", "retry_after": 2}` (error and retry_after optional),
    or `{"hostile": "huge", ...}` (see `hostile_failure`)."""
    where = f"script[{index}]"
    if not isinstance(entry, dict):
        raise FaultError(f"{where} must be an object")
    if "hostile" in entry:
        return hostile_failure(where, entry)
    unknown = set(entry) - {"drop", "status", "error", "retry_after"}
    if unknown:
        raise FaultError(f"{where} has an unknown key: {sorted(unknown)[0]}")
    if entry.get("drop") is True:
        if len(entry) > 1:
            raise FaultError(f"{where}: drop takes no other keys")
        return Failure(drop=True)
    status = entry.get("status")
    if not is_error_status(status):
        raise FaultError(f"{where}.status must be an HTTP error status (400-599)")
    error = entry.get("error", error_text(status))
    if not isinstance(error, str):
        raise FaultError(f"{where}.error must be a string")
    retry_after = entry.get("retry_after")  # a 429 without one gets the current retry_after
    if retry_after is not None and not is_count(retry_after):
        raise FaultError(f"{where}.retry_after must be a non-negative integer")
    return Failure(status=status, error=error, retry_after=retry_after)


def hostile_failure(where: str, entry: dict) -> Failure:
    """`{"hostile": "deep_json" | "huge" | "trickle"}`, with optional `status` (200-599; default the real
    answer's), `size` (deep_json, huge), `chunked` (huge) and `byte_ms` (trickle)."""
    unknown = set(entry) - {"hostile", "status", "size", "chunked", "byte_ms"}
    if unknown:
        raise FaultError(f"{where} has an unknown key: {sorted(unknown)[0]}")
    mode = entry["hostile"]
    if mode not in MODES:
        raise FaultError(f"{where}.hostile must be one of {', '.join(MODES)}")
    status = entry.get("status")
    if status is not None and not (is_count(status) and 200 <= status <= 599):
        raise FaultError(f"{where}.status must be an HTTP status (200-599)")
    size, byte_ms = entry.get("size", DEFAULT_SIZE.get(mode, 0)), entry.get("byte_ms", DEFAULT_BYTE_MS)
    for name, value in (("size", size), ("byte_ms", byte_ms)):
        if not is_count(value):
            raise FaultError(f"{where}.{name} must be a non-negative integer")
    chunked = entry.get("chunked", False)
    if not isinstance(chunked, bool):
        raise FaultError(f"{where}.chunked must be a boolean")
    return Failure(hostile=Hostile(mode, status, size, chunked, byte_ms))


def script_entry(failure: Failure) -> dict:
    if failure.hostile is not None:
        return failure.hostile.entry()
    if failure.drop:
        return {"drop": True}
    entry = {"status": failure.status, "error": failure.error}
    if failure.retry_after is not None:
        entry["retry_after"] = failure.retry_after
    return entry


def is_error_status(value) -> bool:
    if not isinstance(value, int) or isinstance(value, bool) or not 400 <= value <= 599:
        return False
    try:
        HTTPStatus(value)
    except ValueError:
        return False
    return True


def is_count(value) -> bool:
    """A non-negative integer, and not a bool (JSON true is not 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def encode(payload, escape: str = "none") -> bytes:
    """An answer's JSON as sent, with the escapes `escape` asks for (see the module's docstring)."""
    if escape == "all":
        return _all_escaped(payload).encode()
    text = json.dumps(payload, ensure_ascii=False)
    if escape == "html":  # these characters only ever appear inside strings: the result is the same JSON
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode()


def _all_escaped(value) -> str:
    if isinstance(value, str):
        units = value.encode("utf-16-be", "surrogatepass")
        return '"' + "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)) + '"'
    if isinstance(value, dict):
        return "{" + ",".join(f"{_all_escaped(str(key))}:{_all_escaped(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_all_escaped(item) for item in value) + "]"
    return json.dumps(value)


def echoed_credentials(authorization: str | None, body: bytes) -> str | None:
    """What a request authenticates with: its bearer token, or the client secret of a token request."""
    if authorization and authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ")
    secret = parse_qs(body.decode("utf-8", "replace")).get("client_secret")
    return secret[-1] if secret else None
