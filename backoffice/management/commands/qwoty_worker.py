"""Run the task queue with several pushes in flight in one process (`db_worker` runs one at a time).

Pushing is I/O-bound: a push spends most of its time waiting for Qwoty, so N threads push N
records at once for the memory of one process. One dispatcher loop claims tasks for the pool:
it checks for a ready task with a plain read first, so an idle worker never takes SQLite's
write lock (staff saves would queue behind it), and it claims only when a thread is free.
Tasks run through django-tasks-db's own `Worker.run_task`, so results and signals are as with
`db_worker`; the push layer's conditional claim keeps one record to one thread.
SIGINT/SIGTERM stop claiming, let running pushes finish, then exit.
"""

import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

logger = logging.getLogger(__name__)

BACKEND = "default"


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=8, help="Pushes in flight at once (default 8).")
        parser.add_argument("--interval", type=float, default=0.2, help="Seconds between polls when idle.")
        parser.add_argument("--queue-name", default="default")

    def handle(self, *args, threads, interval, queue_name, **options):
        # Each thread keeps its connection: reconnecting for every push costs more than the
        # push's own queries (on PostgreSQL).
        settings.DATABASES[DEFAULT_DB_ALIAS].update(CONN_MAX_AGE=None, CONN_HEALTH_CHECKS=True)
        queues = queue_name.split(",")
        worker_id = get_random_string(32)
        runner = Worker(
            queue_names=queues,
            interval=interval,
            batch=False,
            backend_name=BACKEND,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        running = threading.Event()
        running.set()

        def stop(signum, frame):
            running.clear()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"qwoty_worker: {threads} threads on queue {queue_name}")
        free = threading.Semaphore(threads)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="push") as pool:
            while running.is_set():
                if not free.acquire(timeout=0.5):  # every thread busy; wake up now and then for signals
                    continue
                try:
                    task = _claim_next(queues, worker_id)
                except DatabaseError:
                    logger.exception("Could not claim a task; trying again")
                    connection.close()  # a fresh connection next time
                    task = None
                if task is None:
                    free.release()
                    time.sleep(interval)
                    continue
                pool.submit(_run, runner, task, free)
            self.stdout.write("qwoty_worker: stopping after the pushes in flight")
        connection.close()


def _claim_next(queues: list[str], worker_id: str) -> DBTaskResult | None:
    """The next ready task, marked as ours; None when there is none (or the database is busy)."""
    ready = DBTaskResult.objects.ready().filter(backend_name=BACKEND, queue_name__in=queues)
    if not ready.exists():
        return None
    try:
        with exclusive_transaction(ready.db):
            task = ready.get_locked()
            if task is not None:
                task.claim(worker_id)
            return task
    except OperationalError as exc:
        if is_locked_database_exception(exc):
            return None
        raise


def _run(runner: Worker, task: DBTaskResult, free: threading.Semaphore) -> None:
    try:
        runner.run_task(task)
    except Exception:
        logger.exception("Task %s could not be recorded", task.id)
    finally:
        free.release()
        close_old_connections()  # drops this thread's connection only if it broke
