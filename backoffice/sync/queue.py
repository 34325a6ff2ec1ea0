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
from django.db.models import Model, Q
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from redis.exceptions import RedisError
from rq.worker import SimpleWorker

from .models import SyncStatus

logger = logging.getLogger(__name__)


# Ahead of the pushes in the database queue: a task someone watches a progress bar for (an import's preview or
# apply). RQ has no priorities: there it waits its turn.
AHEAD = 10


def enqueue(task, *args, run_after=None, ahead: bool = False) -> None:
    """Queue `task(*args)`, not before `run_after` (`ahead` of the pushes waiting, where the queue can); within the
    caller's transaction where the queue can be."""
    in_database = isinstance(task.get_backend(), DatabaseBackend)
    if ahead and in_database:
        task = task.using(priority=AHEAD)
    if run_after:
        # RQ keeps a delayed job's time in whole seconds, rounded down: a retry due at 12:00:03.4 would run
        # at 12:00:03.0, find its record not due yet, and end; the record would wait for the sweep.
        task = task.using(run_after=run_after if in_database else _next_whole_second(run_after))
    if in_database:
        task.enqueue(*args)
    else:
        transaction.on_commit(partial(_enqueue_committed, task, args))


def queue_pending(model: type[Model], enqueue, *among: Q) -> int:
    """Queue every pending row of `model` (of those `among` selects) with `enqueue(pk)`, made due now, in one
    transaction; returns how many. A row pushed meanwhile costs at most a duplicate task: the claim is conditional."""
    with transaction.atomic():
        ids = list(model.objects.filter(*among, sync_status=SyncStatus.PENDING).values_list("pk", flat=True))
        model.objects.filter(pk__in=ids, sync_status=SyncStatus.PENDING).update(next_push_at=timezone.now())
        for pk in ids:
            enqueue(pk)
    return len(ids)


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
