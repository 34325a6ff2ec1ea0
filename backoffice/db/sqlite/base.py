"""Django's SQLite backend, with one write transaction per process at a time, queued on a lock.

SQLite lets one transaction write at a time. A connection that finds the file locked sleeps in
SQLite's busy handler (1, 2, 5, 10… up to 100 ms between tries), so when a worker's threads and
the staff's saves all wait there, the lock sits free while they sleep and the waits pile up. Here
the threads of one process queue on a Python lock instead, and the next one starts the moment the
previous one commits; only one of them at a time waits in the busy handler. Measured with
`make bench-push` on 2 cores: about a third more pushes per second, and a lower save p95 while the
worker pushes.

Write transactions take the lock: `atomic()` blocks, which begin IMMEDIATE (settings.py), and
django-tasks-db's EXCLUSIVE ones. Single statements in autocommit mode (a `save()` outside
`atomic()`) do not, and wait in SQLite as before. A thread that cannot have the lock within the
database's `timeout` gets the same "database is locked" error SQLite would give. In-memory
databases take no lock: no other process can open them.

Statements are converted from Django's `%s` placeholders to SQLite's `?` once per distinct SQL text, not at every
execution: the push layer runs the same few statements thousands of times, and the conversion (a regex) was a
twentieth of a worker's time holding the interpreter lock.

Each connection also gets qwoty_fold(), the accent- and case-insensitive fold the search's triggers and queries
call (backoffice/db/folding.py): SQLite has no unaccent.
"""

import functools
import os
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from backoffice.db import folding

_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


@functools.cache
def writer_lock(name: str) -> threading.Lock:
    """This process's lock for the database file `name` (one lock per file, however its path is spelt)."""
    with _locks_lock:
        return _locks.setdefault(os.path.realpath(name), threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _writing = None  # the lock this connection holds, while in a write transaction

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    def get_new_connection(self, conn_params):
        database = super().get_new_connection(conn_params)
        folding.register_sqlite_function(database)
        return database

    def _start_transaction_under_autocommit(self):
        self._lock_for_writing()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._unlock()
            raise

    def _set_autocommit(self, autocommit):
        # Back to autocommit: the outermost atomic() block has committed or rolled back.
        try:
            super()._set_autocommit(autocommit)
        finally:
            if autocommit:
                self._unlock()

    def _close(self):
        try:
            super()._close()
        finally:
            self._unlock()

    def _lock_for_writing(self) -> None:
        if self.transaction_mode not in ("IMMEDIATE", "EXCLUSIVE") or self.is_in_memory_db():
            return
        lock = writer_lock(str(self.settings_dict["NAME"]))
        if not lock.acquire(timeout=self.settings_dict["OPTIONS"].get("timeout", 5)):
            raise OperationalError("database is locked")
        self._writing = lock

    def _unlock(self) -> None:
        if self._writing is not None:
            lock, self._writing = self._writing, None
            lock.release()


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


@functools.lru_cache(maxsize=1024)
def _qmark(query: str) -> str:
    """What Django's `convert_query` makes of a "format"-style statement, remembered."""
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")
