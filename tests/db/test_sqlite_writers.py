"""backoffice.db.sqlite: one write transaction per process at a time, queued on a lock, not in SQLite's busy handler."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from backoffice.db.sqlite.base import writer_lock
from catalogs.models import Catalog

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the writer lock is SQLite's backend only")


@pytest.fixture
def lock(transactional_db):
    return writer_lock(str(connection.settings_dict["NAME"]))


def in_thread(work) -> tuple[threading.Thread, threading.Event]:
    """Run `work` in a thread with its own connection; the event is set when it is done."""
    done = threading.Event()

    def run():
        try:
            work()
            done.set()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def test_a_write_transaction_waits_for_the_process_lock_even_when_sqlite_is_free(lock):
    def write():
        with transaction.atomic():
            Catalog.objects.update(name="Queued")

    lock.acquire()  # as another thread's transaction would
    thread, done = in_thread(write)
    try:
        assert not done.wait(0.3)  # SQLite itself is free: only the lock holds it back
    finally:
        lock.release()
    thread.join(5)
    assert done.is_set()


def test_reads_outside_a_transaction_do_not_wait(lock):
    counted = []
    lock.acquire()
    try:
        thread, done = in_thread(lambda: counted.append(Catalog.objects.count()))
        assert done.wait(5)
    finally:
        lock.release()
    thread.join(5)
    assert counted == [0]


def test_the_lock_is_given_back_after_commit_rollback_and_close(lock):
    with transaction.atomic():
        assert lock.locked()
        with transaction.atomic():  # a savepoint does not take it twice
            Catalog.objects.update(name="Nested")
    assert not lock.locked()

    with pytest.raises(ValueError, match="rolled back"), transaction.atomic():
        raise ValueError("rolled back")
    assert not lock.locked()

    with transaction.atomic():
        connection.close()
    assert not lock.locked()


def test_a_writer_that_cannot_have_the_lock_in_time_gets_database_is_locked(lock, monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.1)
    lock.acquire()
    try:
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            pass
    finally:
        lock.release()
    with transaction.atomic():  # nothing was left held by the failed attempt
        Catalog.objects.update(name="After")
    assert not lock.locked()


@pytest.mark.django_db
def test_placeholders_are_converted_once_per_statement_and_as_django_converts_them():
    from backoffice.db.sqlite.base import _qmark

    _qmark.cache_clear()
    sql = "SELECT %s, '100%%', COUNT(*) FROM catalogs_catalog WHERE name LIKE %s"
    for _ in range(3):
        with connection.cursor() as cursor:
            cursor.execute(sql, ["a", "%x%"])
            assert cursor.fetchone() == ("a", "100%", 0)
    assert (_qmark.cache_info().misses, _qmark.cache_info().hits) == (1, 2)
    with connection.cursor() as cursor:  # named parameters ("pyformat") are Django's conversion, untouched
        cursor.execute("SELECT %(first)s, %(first)s", {"first": 7})
        assert cursor.fetchone() == (7, 7)
