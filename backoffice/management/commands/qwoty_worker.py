"""Run the task queue with several pushes in flight in one process (`db_worker` runs one at a time).

Pushing is I/O-bound: a push spends most of its time waiting for Qwoty, so N threads push N
records at once for the memory of one process. One dispatcher loop claims tasks for the pool:
it checks for a ready task with a plain read first, so an idle worker never takes SQLite's
write lock (staff saves would queue behind it), and it claims as many tasks as threads are free,
in one transaction.
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
                slots = 1
                while slots < threads and free.acquire(blocking=False):
                    slots += 1
                try:
                    tasks = _claim_ready(queues, worker_id, limit=slots)
                except DatabaseError:
                    logger.exception("Could not claim tasks; trying again")
                    connection.close()  # a fresh connection next time
                    tasks = []
                for _ in range(slots - len(tasks)):
                    free.release()
                if not tasks:
                    time.sleep(interval)
                    continue
                for task in tasks:
                    pool.submit(_run, runner, task, free)
            self.stdout.write("qwoty_worker: stopping after the pushes in flight")
        connection.close()


def _claim_ready(queues: list[str], worker_id: str, *, limit: int) -> list[DBTaskResult]:
    """Up to `limit` ready tasks, marked as ours in one transaction; none when there are none (or the database
    is busy). One transaction for the batch: SQLite writes one transaction at a time, and the dispatcher
    claims for every thread."""
    ready = DBTaskResult.objects.ready().filter(backend_name=BACKEND, queue_name__in=queues)
    if not ready.exists():
        return []
    try:
        with exclusive_transaction(ready.db):
            # What django-tasks-db's get_locked() takes, a batch at a time.
            tasks = list(ready.select_for_update(skip_locked=True)[:limit])
            for task in tasks:
                task.claim(worker_id)
            return tasks
    except OperationalError as exc:
        if is_locked_database_exception(exc):
            return []
        raise


def _run(runner: Worker, task: DBTaskResult, free: threading.Semaphore) -> None:
    try:
        runner.run_task(task)
    except Exception:
        logger.exception("Task %s could not be recorded", task.id)
    finally:
        free.release()
        close_old_connections()  # drops this thread's connection only if it broke
