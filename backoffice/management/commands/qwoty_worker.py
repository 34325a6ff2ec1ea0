"""Run the task queue with several pushes in flight in one process (`db_worker` runs one at a time).

Pushing is I/O-bound: a push spends most of its time waiting for Qwoty, so N threads push N
records at once for the memory of one process. One dispatcher loop owns the task rows:
- it checks for a ready task with a plain read first, so an idle worker never takes SQLite's
  write lock (staff saves would queue behind it);
- in one transaction it writes the results of the tasks finished since its last round (with the
  bookkeeping of their failed pushes: `reports.reporting`) and claims the next batch of tasks.
  The threads only run tasks, so a push costs the queue no write transaction of its own (nor a
  failed push one for its retry): SQLite writes one transaction at a time, and the staff's saves
  share that lock.
- a target that keeps failing is held back (`sync/circuit.py`): its tasks are left in the queue, but for one now
  and then, until a call goes through; with Qwoty down, the staff's saves meet no burst of retry bookkeeping.
- it claims a batch (as many tasks as threads) once that many places are free, and keeps up to
  one batch queued behind the running pushes, so the threads never wait for a round and a round
  serves a batch of pushes, not one. A claimed task that waits its turn is RUNNING already; if the
  worker dies, the sweep re-queues its record (it never relies on the task row).
Tasks run as in django-tasks-db's `Worker.run_task` (same signals, same result fields), except that
a task's row says RUNNING until the dispatcher's next round (`task_finished` fires before), and its
`finished_at` is the latest of the tasks that ended alike in that round. The push layer's
conditional claim keeps one record to one thread. A worker killed before writing a
result leaves its task RUNNING, as `db_worker` would: the sweep recovers records, never tasks.
SIGINT/SIGTERM stop claiming, let running pushes finish, write their results, give the tasks
still waiting for a thread back to the queue (READY), then exit.
"""

import dataclasses
import logging
import queue
import signal
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from traceback import format_exception

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, close_old_connections, connection
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.backend import TaskResult
from django_tasks_db.compat import (
    TaskContext,
    TaskError,
    TaskResultStatus,
    normalize_json,
    task_backends,
    task_finished,
    task_started,
)
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception, normalize_uuid

from backoffice.sync import circuit, links, push, reports, statements, targets

logger = logging.getLogger(__name__)

BACKEND = "default"
OUTCOME_FIELDS = ("status", "return_value", "exception_class_path", "traceback")


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        # 16: with Qwoty answering in 50 ms, a worker draining alone on 2 cores did 111-116 pushes/s with 8
        # threads and 136-149 with 16 (interleaved runs); the per-target rate limit is what holds pushes back.
        parser.add_argument("--threads", type=int, default=16, help="Pushes in flight at once (default 16).")
        parser.add_argument("--interval", type=float, default=0.2, help="Seconds between polls when idle.")
        parser.add_argument("--queue-name", default="default")

    def handle(self, *args, threads, interval, queue_name, **options):
        if settings.TASKS_BACKEND != "database":
            raise CommandError(
                f"qwoty_worker runs the database queue; TASKS_BACKEND is {settings.TASKS_BACKEND!r}: "
                "run `manage.py rqworker-pool default --num-workers N` instead."
            )
        # Each thread keeps its connection: reconnecting for every push costs more than the
        # push's own queries (on PostgreSQL).
        settings.DATABASES[DEFAULT_DB_ALIAS].update(CONN_MAX_AGE=None, CONN_HEALTH_CHECKS=True)
        queues = queue_name.split(",")
        worker_id = get_random_string(32)
        running = threading.Event()
        running.set()

        def stop(signum, frame):
            running.clear()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"qwoty_worker: {threads} threads on queue {queue_name}")
        places = Places(capacity=2 * threads)  # the running pushes and one batch waiting behind them
        finished: queue.SimpleQueue[DBTaskResult] = queue.SimpleQueue()
        unwritten: list[DBTaskResult] = []
        waiting: set[DBTaskResult] = set()  # claimed, not started yet: given back to the queue on the way out
        circuits = circuit.Circuits()
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="push") as pool:
            while running.is_set():
                if not places.wait_for(threads, timeout=0.5):  # wakes up now and then for signals
                    continue
                ended = _take_all(finished)
                _follow(circuits, ended)
                unwritten.extend(ended)
                try:
                    tasks = _write_and_claim(unwritten, queues, worker_id, limit=threads, circuits=circuits)
                except DatabaseError:
                    logger.exception("Could not write results and claim tasks; writing the results one by one")
                    connection.close()  # a fresh connection next time
                    _write_each(unwritten)  # so that one result the database refuses cannot stop the queue
                    tasks = []
                if tasks is not None:
                    unwritten.clear()
                if not tasks:
                    time.sleep(interval)
                    continue
                places.take(len(tasks))
                for task in tasks:
                    waiting.add(task)
                    pool.submit(_run, task, finished, places, waiting)
            self.stdout.write("qwoty_worker: stopping after the pushes in flight")
            # The batch waiting for a thread goes back to the queue, for this worker's successor.
            pool.shutdown(wait=True, cancel_futures=True)
        _write_each([*unwritten, *_take_all(finished)])
        _give_back(list(waiting), worker_id)
        connection.close()


def _write_and_claim(
    done: list[DBTaskResult], queues: list[str], worker_id: str, *, limit: int, circuits: circuit.Circuits | None = None
):
    """Write the results of `done`, then mark up to `limit` ready tasks as ours, in one transaction: one task of each
    held target whose probe is due, then a batch of the others' tasks (all of them without `circuits`).

    Returns the tasks claimed, or None when the database was busy (nothing written: try again).
    No transaction at all when there is nothing to write and no task is ready.
    """
    now = timezone.now()
    circuits = circuits or circuit.Circuits()
    held, probes = circuits.held(), circuits.probes_due()
    if not done and not _ready(queues, now, limit=1, exists=True, held=tuple(t for t in held if t not in probes)):
        return []
    try:
        with exclusive_transaction(DBTaskResult.objects.db):
            _write_results(done)
            tasks = []
            for target in probes:
                for db_task in _ready(queues, now, limit=1, only=target):
                    db_task.probe_of = target
                    tasks.append(db_task)
            # What django-tasks-db's get_locked() takes, a batch at a time.
            if limit > len(tasks):
                tasks += _ready(queues, now, limit=limit - len(tasks), held=held)
            _mark_running(tasks, worker_id)
    except OperationalError as exc:
        if is_locked_database_exception(exc):
            return None
        raise
    for db_task in tasks:
        if hasattr(db_task, "probe_of"):
            circuits[db_task.probe_of].start_probe()
    return tasks


def _ready(
    queues: list[str], now, *, limit: int, exists: bool = False, held: tuple[str, ...] = (), only: str = ""
) -> list:
    """`DBTaskResult.objects.ready()` of our backend and queues, locked, as `get_locked()` reads them: up to `limit`
    tasks (or only whether there is one), without the tasks of the `held` targets, or only those of target `only`.
    Its SQL is compiled once per shape: building it each round cost more than a push's own queries."""

    def build(now):
        # What ready() selects, with `now` given rather than read inside.
        tasks = DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, backend_name=BACKEND, queue_name__in=queues
        ).filter(Q(run_after=get_date_max()) | Q(run_after__lte=now))
        for target in held:
            tasks = tasks.exclude(_tasks_of(target))
        if only:
            tasks = tasks.filter(_tasks_of(only))
        return tasks.order_by().values_list("pk")[:1] if exists else tasks.select_for_update(skip_locked=True)[:limit]

    return statements.prepared(("ready tasks", tuple(queues), limit, exists, held, only), build, now)


def _tasks_of(target: str) -> Q:
    """The queue's tasks that call `target`: Qwoty's record pushes, or a secondary target's link pushes."""
    if target == push.TARGET:
        return Q(task_path=push.push_record.module_path)
    return Q(task_path=links.push_link.module_path, args_kwargs__args__0=target)


def _follow(circuits: circuit.Circuits, ended: list[DBTaskResult]) -> None:
    """Move the circuits by what the pushes that ended say of their targets; a target held back, or taken again,
    is said on its state (the queue page and the alerts read it) and in the log."""
    for db_task in ended:
        report = getattr(db_task, "report", None)
        change = circuits.feed(report)
        if hasattr(db_task, "probe_of"):
            circuits[db_task.probe_of].end_probe()
            if change is None and report is not None and report.failure is not None:
                # Still held: said again, in case the sweep dropped the mark (`recovery.held_targets`) meanwhile.
                _mark_failing(report.target, report.failure)
        if change is None:
            continue
        if change.change == circuit.OPENED:
            logger.warning("Holding back the pushes to %s: %s", change.target, change.failure.message)
        else:
            logger.warning("%s answers again: its pushes resume", change.target)
        _mark_failing(change.target, change.failure if change.change == circuit.OPENED else None)


def _mark_failing(target: str, failure) -> None:
    try:
        targets.mark_failing(target, failure)
    except DatabaseError:
        logger.exception("Could not record that %s is %s", target, "held back" if failure else "taken again")


def _mark_running(tasks: list[DBTaskResult], worker_id: str) -> None:
    """What `DBTaskResult.claim()` writes, in one UPDATE for the batch instead of one per task."""
    now = timezone.now()
    by_workers: dict[tuple[str, ...], list[DBTaskResult]] = defaultdict(list)
    for db_task in tasks:
        db_task.status, db_task.started_at = TaskResultStatus.RUNNING, now
        db_task.worker_ids = [*db_task.worker_ids, worker_id]
        by_workers[tuple(db_task.worker_ids)].append(db_task)
    for worker_ids, group in by_workers.items():
        statements.update_in(
            DBTaskResult,
            [db_task.pk for db_task in group],
            {"status": TaskResultStatus.RUNNING, "started_at": now, "worker_ids": list(worker_ids)},
        )


def _write_results(done: list[DBTaskResult]) -> None:
    """One UPDATE per distinct outcome (a round's pushes mostly end alike): far cheaper than a
    bulk_update's CASE per row. `finished_at` is the latest of the group, within one round. Written as the ORM's
    `filter(pk__in=…).update(…)` would, by SQL built once per shape (the ORM's compiling it was a tenth of the
    worker's CPU)."""
    groups: dict[str, list[DBTaskResult]] = defaultdict(list)
    for db_task in done:
        report = getattr(db_task, "report", None)
        for write in report.writes if report else ():  # failed pushes' bookkeeping, left to this round
            write()
        # repr, not json.dumps: it never raises, and equal outcomes (built alike) group together.
        groups[repr([getattr(db_task, name) for name in OUTCOME_FIELDS])].append(db_task)
    for group in groups.values():
        first = group[0]
        statements.update_in(
            DBTaskResult,
            [db_task.pk for db_task in group],
            {
                **{name: getattr(first, name) for name in OUTCOME_FIELDS},
                "finished_at": max(db_task.finished_at for db_task in group),
            },
        )


def _write_each(done: list[DBTaskResult]) -> None:
    """Each result in its own transaction (SQLite's busy timeout waits for the lock); one that cannot be
    written is logged and left RUNNING, as a killed worker leaves it: the push layer never relies on it."""
    for db_task in done:
        try:
            with exclusive_transaction(DBTaskResult.objects.db):
                _write_results([db_task])
        except DatabaseError:
            logger.exception("Could not write the result of task %s", db_task.id)


def _give_back(tasks: list[DBTaskResult], worker_id: str) -> None:
    """Tasks claimed but never started: READY again, as before the claim (a killed worker leaves them RUNNING,
    and the sweep re-queues their records)."""
    for db_task in tasks:
        try:
            DBTaskResult.objects.filter(pk=db_task.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY,
                started_at=None,
                worker_ids=[id_ for id_ in db_task.worker_ids if id_ != worker_id],
            )
        except DatabaseError:
            logger.exception("Could not give task %s back to the queue", db_task.id)


def _take_all(finished: queue.SimpleQueue) -> list[DBTaskResult]:
    taken = []
    while not finished.empty():
        taken.append(finished.get_nowait())
    return taken


class Places:
    """How many more tasks the pool may hold (running or waiting for a thread)."""

    def __init__(self, capacity: int):
        self.free = capacity
        self._wanted = capacity + 1  # what the dispatcher waits for: no one yet
        self._changed = threading.Condition()

    def wait_for(self, batch: int, *, timeout: float) -> bool:
        """Whether `batch` places are free, waiting up to `timeout` seconds for them."""
        with self._changed:
            self._wanted = batch
            return self._changed.wait_for(lambda: self.free >= batch, timeout)

    def take(self, count: int) -> None:
        with self._changed:
            self.free -= count

    def give_back(self) -> None:
        with self._changed:
            self.free += 1
            # Wakes the dispatcher once its batch is free, not at every push: each wake-up costs a GIL hand-over.
            if self.free == self._wanted:
                self._changed.notify()


def _run(db_task: DBTaskResult, finished: queue.SimpleQueue, places: Places, waiting: set | None = None) -> None:
    """Run one task as `Worker.run_task` does, but leave writing its result to the dispatcher."""
    if waiting is not None:
        waiting.discard(db_task)  # started: no longer the dispatcher's to give back
    try:
        result = _task_result(db_task)
        task = result.task
        sender = type(task_backends[task.backend])  # task.get_backend(), without validating it again
        task_started.send(sender=sender, task_result=result)
        try:
            arguments = (TaskContext(task_result=result),) if task.takes_context else ()
            with reports.reporting() as db_task.report:
                value = task.call(*arguments, *result.args, **result.kwargs)
            _succeeded(db_task, value)
        except BaseException as exc:  # as Worker.run_task: whatever a task raises is its result
            _failed(db_task, exc)
        task_finished.send(sender=sender, task_result=_finished_result(result, db_task))
    except BaseException as exc:  # the task could not even be loaded (a task path that no longer exists)
        logger.exception("Task %s could not be run", db_task.id)
        _failed(db_task, exc)
    finally:
        finished.put(db_task)
        places.give_back()
        close_old_connections()  # drops this thread's connection only if it broke


def _task_result(db_task: DBTaskResult):
    """`db_task.task_result`, with its `Task` made once per task and options (`DBTaskResult.task` imports the task
    and validates a copy of it every time: a tenth of a push's CPU, twice per task)."""
    run_after = None if db_task.run_after == get_date_max() else db_task.run_after
    if run_after is not None:
        return db_task.task_result  # a retry's own due time: not worth keeping
    key = (db_task.task_path, db_task.priority, db_task.queue_name, db_task.backend_name)
    task = _tasks.get(key)
    if task is None:
        task = _tasks[key] = db_task.task  # raises as the property does, for a path that is not a task
    return TaskResult(
        db_result=db_task,
        task=task,
        id=normalize_uuid(db_task.id),
        status=TaskResultStatus[db_task.status],
        enqueued_at=db_task.enqueued_at,
        started_at=db_task.started_at,
        last_attempted_at=db_task.started_at,
        finished_at=db_task.finished_at,
        args=db_task.args_kwargs["args"],
        kwargs=db_task.args_kwargs["kwargs"],
        backend=db_task.backend_name,
        errors=[],
        worker_ids=db_task.worker_ids,
    )


def _finished_result(started, db_task: DBTaskResult):
    """What `db_task.task_result` gives once the task has ended, made from the result it started with."""
    finished = dataclasses.replace(
        started,
        status=TaskResultStatus[db_task.status],
        finished_at=db_task.finished_at,
        errors=(
            [TaskError(exception_class_path=db_task.exception_class_path, traceback=db_task.traceback)]
            if db_task.status == TaskResultStatus.FAILED
            else []
        ),
    )
    object.__setattr__(finished, "_return_value", db_task.return_value)
    return finished


_tasks: dict[tuple, object] = {}  # the tasks run, by path and options (a Task is immutable)


def _succeeded(db_task: DBTaskResult, return_value) -> None:
    try:
        value = normalize_json(return_value)  # fails here, not in the dispatcher's batch write
    except (TypeError, ValueError) as exc:
        _failed(db_task, exc)
        return
    db_task.status = TaskResultStatus.SUCCESSFUL
    db_task.finished_at = timezone.now()
    db_task.return_value = value
    db_task.exception_class_path = ""
    db_task.traceback = ""


def _failed(db_task: DBTaskResult, exc: BaseException) -> None:
    db_task.status = TaskResultStatus.FAILED
    db_task.finished_at = timezone.now()
    db_task.return_value = None
    db_task.exception_class_path = f"{type(exc).__module__}.{type(exc).__qualname__}"
    db_task.traceback = "".join(format_exception(exc))
