"""Putting a push on the task queue, whichever backend TASKS_BACKEND picked.

The database queue (the embedded default) writes its task row in the edit's own transaction: the edit
and its push commit or roll back together. Redis cannot join that transaction, so with RQ a push is
queued once the edit has committed, and a failure to reach Redis then is logged, not raised: the edit
is saved and its record is `pending` with a due time, which is what the sweep looks for. The record
row is the outbox either way; the queue only says when to look at it.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.db import connections, transaction
from django_tasks_db import DatabaseBackend
from django_tasks_db.backend import TaskResult
from django_tasks_db.compat import TaskResultStatus, normalize_json, task_enqueued
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import normalize_uuid
from redis.exceptions import RedisError
from rq.worker import SimpleWorker

from . import statements

logger = logging.getLogger(__name__)


def enqueue(task, *args, run_after=None) -> None:
    """Queue `task(*args)`, not before `run_after`; within the caller's transaction where the queue can be."""
    in_database = isinstance(task.get_backend(), DatabaseBackend)
    if run_after:
        # RQ keeps a delayed job's time in whole seconds, rounded down: a retry due at 12:00:03.4 would run
        # at 12:00:03.0, find its record not due yet, and end; the record would wait for the sweep.
        task = task.using(run_after=run_after if in_database else _next_whole_second(run_after))
    if in_database:
        _enqueue_in_database(task, args)
    else:
        transaction.on_commit(partial(_enqueue_committed, task, args))


def _enqueue_in_database(task, args: tuple) -> None:
    """`task.enqueue(*args)` with the database backend, as `DatabaseBackend.enqueue` does it (the task validated,
    the row its `_task_to_db_task` creates, `run_after` as its pre_save handler sets it, task_enqueued sent), the
    row written by `statements.insert` rather than the ORM's create, and the signal's result made from `task`
    (the backend builds it twice, importing and validating the task again each time): about half a millisecond
    less per push queued, most of it inside the write transaction of a staff save or of a retry."""
    backend = task.get_backend()
    backend.validate_task(task)
    db_task = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": {}}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after if task.run_after is not None else get_date_max(),
        backend_name=backend.alias,
    )
    statements.insert(db_task)
    if task_enqueued.has_listeners(type(backend)):
        result = TaskResult(
            db_result=db_task,
            task=task,
            id=normalize_uuid(db_task.id),
            status=TaskResultStatus[db_task.status],
            enqueued_at=db_task.enqueued_at,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=db_task.args_kwargs["args"],
            kwargs=db_task.args_kwargs["kwargs"],
            backend=db_task.backend_name,
            errors=[],
            worker_ids=db_task.worker_ids,
        )
        object.__setattr__(result, "_return_value", None)
        task_enqueued.send(type(backend), task_result=result)


def _next_whole_second(moment: datetime) -> datetime:
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def _enqueue_committed(task, args) -> None:
    try:
        task.enqueue(*args)
    except RedisError as exc:
        # Saved, pending, due: the sweep queues it again once it is overdue (QWOTY_PUSH_STALE_SECONDS).
        logger.warning("Could not queue %s%s (%s): the sweep will queue it again", task.name, args, exc)


def close_unusable_connections(**kwargs) -> None:
    """After a task: drop database connections that broke or outlived CONN_MAX_AGE, as a request would."""
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()


class PushWorker(SimpleWorker):
    """RQ's worker for our tasks (settings.RQ): jobs run in the worker process (RQ's default forks one, with
    new database connections, per job), and no pubsub channel. We never send RQ's remote commands through
    it, and its listener thread, blocked up to 60 s in a read, held every worker's exit for that long (seen
    with rq 3.0 and redis-py 8.2)."""

    def __init__(self, *args, maintenance_interval: int = 30, worker_ttl: int = 45, **kwargs):
        # RQ's scheduler (which moves due retries onto the queue) dies with a Redis restart, and a worker starts
        # a new one at its maintenance pass: every 30 s, not RQ's 10 minutes; a worker blocked waiting for a job
        # looks up after worker_ttl - 15 s. Until then the sweep covers an overdue push.
        super().__init__(*args, maintenance_interval=maintenance_interval, worker_ttl=worker_ttl, **kwargs)

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass
