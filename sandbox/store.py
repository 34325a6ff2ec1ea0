"""Thread-safe object store for the sandbox, over one sqlite3 connection.

The sandbox serves many request threads but its data is small, so one
connection behind one lock is simpler than a pool and fast enough. Objects are
kept as JSON documents keyed by (kind, id); `parent_id` (a contact's customer)
and a normalised creation key are columns so lists and `contact_ids` are
indexed queries rather than scans.
"""

import json
import sqlite3
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    parent_id TEXT,
    created_key TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS objects_order ON objects (kind, created_key, id);
CREATE INDEX IF NOT EXISTS objects_parent ON objects (kind, parent_id, created_key, id);
"""


def created_key(timestamp: str) -> str:
    """Sort key for an ISO 8601 timestamp with or without microseconds.

    Comparing the raw strings would put "10:00:00.5Z" before "10:00:00Z".
    """
    return datetime.fromisoformat(timestamp).strftime("%Y-%m-%dT%H:%M:%S.%f")


class Store:
    """JSON documents by kind and id; `path=None` keeps everything in memory.

    `parent_fields` names, per kind, the field indexed as parent_id
    (e.g. {"contact": "customer_id"}).
    """

    def __init__(self, path: str | None = None, parent_fields: dict[str, str] | None = None):
        self.path = path
        self.parent_fields = parent_fields or {}
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        if path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def is_empty(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM objects LIMIT 1").fetchone() is None

    def replace_all(self, objects: dict[str, list[dict]]) -> None:
        """Wipe everything and insert `objects` ({kind: [...]}) in one transaction."""
        rows = [self._row(kind, obj) for kind, items in objects.items() for obj in items]
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM objects")
            self._db.executemany("INSERT INTO objects VALUES (?, ?, ?, ?, ?)", rows)

    def insert(self, kind: str, obj: dict) -> None:
        with self._lock:
            self._db.execute("INSERT INTO objects VALUES (?, ?, ?, ?, ?)", self._row(kind, obj))

    def get(self, kind: str, object_id: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM objects WHERE kind = ? AND id = ?", (kind, object_id)).fetchone()
        return json.loads(row[0]) if row else None

    def update(self, kind: str, object_id: str, change: Callable[[dict], dict]) -> dict | None:
        """Read, change and write one object atomically; None if it does not exist.

        `change` may raise to abort: nothing is written then.
        """
        with self._lock, self._transaction():
            row = self._db.execute("SELECT data FROM objects WHERE kind = ? AND id = ?", (kind, object_id)).fetchone()
            if row is None:
                return None
            obj = change(json.loads(row[0]))
            self._db.execute(
                "UPDATE objects SET data = ? WHERE kind = ? AND id = ?", (json.dumps(obj), kind, object_id)
            )
        return obj

    def page(self, kind: str, offset: int, limit: int) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM objects WHERE kind = ? ORDER BY created_key, id LIMIT ? OFFSET ?",
                (kind, limit, offset),
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    def count(self, kind: str) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM objects WHERE kind = ?", (kind,)).fetchone()[0]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT kind, COUNT(*) FROM objects GROUP BY kind").fetchall()
        return dict(rows)

    def child_ids(self, kind: str, parent_ids: list[str]) -> dict[str, list[str]]:
        """Ids of `kind` objects per parent, each list ordered by creation then id."""
        result: dict[str, list[str]] = {parent_id: [] for parent_id in parent_ids}
        if not parent_ids:
            return result
        marks = ",".join("?" * len(parent_ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT parent_id, id FROM objects WHERE kind = ? AND parent_id IN ({marks}) ORDER BY created_key, id",
                (kind, *parent_ids),
            ).fetchall()
        for parent_id, child_id in rows:
            result[parent_id].append(child_id)
        return result

    def _row(self, kind: str, obj: dict) -> tuple:
        parent_field = self.parent_fields.get(kind)
        parent_id = obj.get(parent_field) if parent_field else None
        return (kind, obj["id"], parent_id, created_key(obj["created_at"]), json.dumps(obj))

    @contextmanager
    def _transaction(self):
        """BEGIN/COMMIT around a block, ROLLBACK if it raises (the connection autocommits)."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
