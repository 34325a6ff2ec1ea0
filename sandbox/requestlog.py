"""What the sandbox received on /api, /prioticket and /koywe, so tests can assert on what was pushed.

Entries are added when a request arrives (so the log is in arrival order) and
get their status when the answer is decided, before it is sent; a dropped
request keeps status None. Headers are never kept: they carry the token.
"""

import json
import threading
from collections import Counter, deque
from datetime import UTC, datetime

MAX_ENTRIES = 100_000


class RequestLog:
    def __init__(self, max_entries: int = MAX_ENTRIES):
        self._entries: deque[dict] = deque(maxlen=max_entries)
        self._lock = threading.Lock()

    def add(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> dict:
        entry = {
            "method": method,
            "path": path,
            "query": {name: values[-1] for name, values in query.items()},
            "body": parse_json(body),
            "status": None,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def answered(self, entry: dict, status: int) -> None:
        with self._lock:
            entry["status"] = status

    def entries(self, method: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(entry) for entry in self._entries if method is None or entry["method"] == method.upper()]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def stats(self) -> dict:
        with self._lock:
            methods = Counter(entry["method"] for entry in self._entries)
            statuses = Counter(str(entry["status"] or "no_answer") for entry in self._entries)
            return {"total": len(self._entries), "by_method": dict(methods), "by_status": dict(statuses)}


def parse_json(body: bytes):
    """The body as JSON, or None when empty or not JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None
