"""Run the task queue with several worker threads in one process (`db_worker` runs one).

Pushing is I/O-bound: a thread spends most of a push waiting for Qwoty, so N threads push N
records at once for the memory of one process. Each thread is django-tasks-db's own Worker loop
with its own database connection; the push layer's conditional claim keeps one record to one
thread. SIGINT/SIGTERM let running pushes finish, then exit.
"""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=8, help="Pushes in flight at once (default 8).")
        parser.add_argument("--interval", type=float, default=0.2, help="Seconds between polls when idle.")
        parser.add_argument("--queue-name", default="default")

    def handle(self, *args, threads, interval, queue_name, **options):
        # Each thread keeps its connection: the worker loop closes "old" connections around every
        # task, and reconnecting per push costs more than the push's own queries (on PostgreSQL).
        settings.DATABASES[DEFAULT_DB_ALIAS].update(CONN_MAX_AGE=None, CONN_HEALTH_CHECKS=True)
        prefix = get_random_string(24)
        workers = [
            Worker(
                queue_names=queue_name.split(","),
                interval=interval,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"{prefix}-{n}",
                excluded_queue_names=[],
            )
            for n in range(threads)
        ]

        def stop(signum, frame):
            for worker in workers:
                worker.running = False

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        running = [threading.Thread(target=self._run, args=(w,), name=w.worker_id) for w in workers]
        for thread in running:
            thread.start()
        self.stdout.write(f"qwoty_worker: {threads} threads on queue {queue_name}")
        for thread in running:
            while thread.is_alive():
                thread.join(timeout=0.5)  # wake up for signals

    @staticmethod
    def _run(worker: Worker) -> None:
        try:
            worker.run()
        finally:
            connection.close()
