"""The task queue as the push tests see it, whichever backend runs it: the database (django-tasks-db) or
Redis (django-tasks-rq). Each runs the real worker: `db_worker --batch`, or an RQ worker in burst mode.

`use_queue(name, settings)` switches the test to a backend; the push tests run on both.
"""

import time
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.conf import settings as django_settings
from redis.exceptions import RedisError

BACKENDS = ("database", "rq")


@dataclass(frozen=True)
class QueuedTask:
    name: str  # "push_record", "push_link", "sweep_task"
    args: tuple
    run_after: datetime | None


class DatabaseQueue:
    backend = "database"

    def tasks(self) -> list[QueuedTask]:
        """Tasks waiting to run (due or not)."""
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
        return [
            QueuedTask(row.task_path.rsplit(".", 1)[1], tuple(row.args_kwargs["args"]), row.run_after) for row in rows
        ]

    def forget(self, name: str | None = None) -> None:
        """Tasks (every one, or those of task `name`) are gone, as if a worker had died with them."""
        from django_tasks_db.models import DBTaskResult

        tasks = DBTaskResult.objects.all()
        (tasks.filter(task_path__endswith=f".{name}") if name else tasks).delete()

    def run_once(self) -> None:
        from django.core.management import call_command

        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    def drain(self, *, max_seconds: float = 20.0) -> int:
        """Run the real worker until no task is waiting, delayed ones included; how many rounds it took."""
        deadline = time.monotonic() + max_seconds
        rounds = 0
        while self.tasks():
            if time.monotonic() > deadline:
                pytest.fail("push queue did not drain in time")
            self.run_once()
            rounds += 1
            time.sleep(0.005)
        return rounds


class RedisQueue(DatabaseQueue):
    """RQ on the test Redis database (REDIS_URL, db 15 under pytest), emptied before each test."""

    backend = "rq"

    def __init__(self):
        import django_rq

        self.connection = django_rq.get_connection("default")
        self.queue = django_rq.get_queue("default")

    def tasks(self) -> list[QueuedTask]:
        from rq.job import Job

        scheduled = self.queue.scheduled_job_registry
        ids = [(job_id, None) for job_id in self.queue.get_job_ids()]
        ids += [(job_id, scheduled.get_scheduled_time(job_id)) for job_id in scheduled.get_job_ids()]
        jobs = Job.fetch_many([job_id for job_id, _ in ids], connection=self.connection)
        return [
            QueuedTask(job.func_name.rsplit(".", 1)[1], tuple(job.args), run_after)
            for job, (_, run_after) in zip(jobs, ids, strict=True)
            if job is not None
        ]

    def forget(self, name: str | None = None) -> None:
        """Jobs (every one: Redis restarted without persistence; or those of task `name`) are gone."""
        if name is None:
            self.connection.flushdb()
            return
        from rq.job import Job

        for job_id in self.queue.get_job_ids() + self.queue.scheduled_job_registry.get_job_ids():
            job = Job.fetch(job_id, connection=self.connection)
            if job.func_name.endswith(f".{name}"):
                job.delete()  # from the queue or the scheduled registry, whichever holds it

    def run_once(self) -> None:
        from django_rq.workers import get_worker
        from rq.scheduler import RQScheduler

        # Due delayed jobs join the queue, as a worker's scheduler would: without its lock, which a burst
        # worker may leave behind for a minute (seen), and which production workers share through Redis.
        scheduler = RQScheduler([self.queue], connection=self.connection)
        scheduler.prepare_registries([self.queue.name])
        scheduler.enqueue_scheduled_jobs()
        worker = get_worker("default")  # the classes settings.RQ names: django-tasks' job, no fork per job
        worker.work(burst=True, logging_level="WARNING")


def use_queue(backend: str, settings) -> DatabaseQueue:
    """Switch this test to `backend`'s queue (Redis must be running for "rq": `make test` starts it)."""
    settings.TASKS = {"default": django_settings.TASK_BACKENDS[backend]}
    if backend == "database":
        return DatabaseQueue()
    queue = RedisQueue()
    try:
        queue.connection.ping()
    except RedisError as exc:
        pytest.fail(f"Redis at {django_settings.REDIS_URL} does not answer ({exc}): `make test` starts it")
    queue.connection.flushdb()
    return queue
