"""The push layer: every staff edit reaches Qwoty as one minimal PATCH, and every call is stored.

One state machine, one module. A record moves through `sync_status`:

    synced ──staff edit──▶ pending ──claim──▶ pushing ──2xx──────────────▶ synced (or pending again
                             ▲  ▲                │                              if edited meanwhile)
                             │  └──retry later───┤ 429 / 5xx / timeout / reset (backoff, capped)
                             │                   ├─▶ failed    400 / 404 / 422, or retries exhausted
                             └──staff retry──────┘   paused    401 / 403: the whole target waits

Our sync state, not the task row, owns attempts, backoff and recovery: a task only says "look
at this record". Duplicate tasks are harmless because claiming is one conditional UPDATE, so one
record is never pushed by two workers at once.
"""

import contextlib
import functools
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from backoffice.redaction import redact_data, redact_json, redact_url
from backoffice.sync.http.errors import UpstreamBadResponse, UpstreamError
from backoffice.sync.qwoty import QwotyClient

from . import mirror as mirrors
from . import queue, reports, statements
from .context import applying_upstream
from .hooks import record_changed
from .models import PushAttempt, SyncStatus, stored_response
from .targets import (
    FAILED,
    NOTHING_TO_SEND,
    PAUSED,
    PUSHED,
    PUSHING,
    RETRYING,
    TARGET,
    after_error,
    claim,
    pause_target,
)
from .task_errors import secrets_redacted

logger = logging.getLogger(__name__)

_thread = threading.local()


# -- staff side: edits mark records dirty -------------------------------------------------------


# A record in these states has its push queued already (or, in conflict, waits for staff).
_ALREADY_DIRTY = (SyncStatus.PENDING, SyncStatus.PUSHING, SyncStatus.CONFLICT)


def mark_dirty(record) -> bool:
    """A staff edit was saved: make the record pending and enqueue its push, in the edit's transaction.

    Enqueues only on the way into `pending`: a record already pending has a task queued, one
    being pushed is re-queued by the worker when it sees the newer edit, and one in conflict
    waits for staff to choose a side.
    """
    moved = statements.update(
        type(record),
        record.pk,
        {"sync_status": SyncStatus.PENDING, "sync_error": "", "push_attempts": 0, "next_push_at": timezone.now()},
        where="{sync_status} NOT IN (%s, %s, %s)",
        params=tuple(("sync_status", status) for status in _ALREADY_DIRTY),
    )
    if moved:
        record.sync_status = SyncStatus.PENDING
        enqueue_push(mirrors.for_model(record).resource, record.pk)
    return bool(moved)


def enqueue_push(resource: str, record_id, *, run_after=None) -> None:
    """Queue a push task (with the database queue, in the edit's transaction: see queue.py)."""
    queue.enqueue(push_record, resource, str(record_id), run_after=run_after)


def retry(record) -> bool:
    """Staff asked to retry a failed record: pending again with a fresh attempt count."""
    moved = (
        type(record)
        .objects.filter(pk=record.pk, sync_status=SyncStatus.FAILED)
        .update(sync_status=SyncStatus.PENDING, push_attempts=0, next_push_at=timezone.now())
    )
    if moved:
        transaction.on_commit(lambda: enqueue_push(mirrors.for_model(record).resource, record.pk))
    return bool(moved)


def retry_all_failed(*, resources: list[str] | None = None) -> int:
    """Retry every failed record (of the given resources, default all); returns how many."""
    count = 0
    for mirror in mirrors.all_mirrors():
        if resources is not None and mirror.resource not in resources:
            continue
        for record in mirror.model.objects.filter(sync_status=SyncStatus.FAILED).only("pk"):
            count += retry(record)
    return count


# -- worker side --------------------------------------------------------------------------------


def push_now(resource: str, record_id) -> str:
    """Push one record if it is due: claim it, PATCH its diff, store the attempt, apply the answer."""
    mirror = mirrors.get(resource)
    claimed, wait = claim(mirror.model, record_id, TARGET)
    if claimed != PUSHING:
        return claimed  # PAUSED or NOT_DUE
    # Read after the claim has committed: ours now, and the write lock is free for everyone else.
    (record,) = statements.select(mirror.model, {"pk": record_id}, ordered=False)
    sent_values = mirror.values(record)
    body = diff(mirror, record, values=sent_values)
    if not body:
        _finish_without_call(mirror, record)
        return NOTHING_TO_SEND

    client = _client()
    if wait > 0:
        time.sleep(wait)
    started = time.monotonic()
    try:
        response = client.patch(resource, record.pk, body)
        data = _answered_object(mirror, response)
    except UpstreamError as exc:
        reports.called(TARGET, exc)
        attempt = _attempt(mirror, record, client, body, started, error=exc)
        return _on_error(mirror, record, exc, attempt)
    reports.called(TARGET)
    attempt = _attempt(mirror, record, client, body, started, status=response.status, response_body=response.body)
    try:
        _on_success(mirror, record, sent_values, data, attempt)
    except (IntegrityError, DataError) as exc:  # a value no column takes: the answer is not applied, staff told
        refused = UpstreamBadResponse(f"Qwoty's answer could not be stored here: {exc}", status=response.status)
        return _on_error(mirror, record, refused, attempt)
    except DatabaseError:
        # The database could not take the answer (gone, locked past its timeout): the record stays `pushing` for the
        # sweep to send again, but the call made is stored, if the database takes that much.
        with contextlib.suppress(DatabaseError):
            transaction.atomic(statements.insert)(attempt)
        raise
    return PUSHED


@task()
@secrets_redacted
def push_record(resource: str, record_id: str) -> str:
    """The queue's task: "look at this record" (see `push_now`)."""
    return push_now(resource, record_id)


def _answered_object(mirror, response) -> dict:
    """The answer's object, with every field we mirror; anything else is not applied (and the record fails)."""
    data = response.data
    missing = [name for name in mirror.fields if name not in data] if isinstance(data, dict) else ["data"]
    if missing:
        message = f"Qwoty's answer is not the whole {mirror.resource[:-1]} (no {', '.join(missing)}): nothing applied"
        raise UpstreamBadResponse(message, status=response.status, body=redact_json(response.body)[:4000])
    return data


def _client() -> QwotyClient:
    """This thread's client: its session keeps the connection to Qwoty open from one push to the next."""
    key = (settings.QWOTY_API_URL, settings.QWOTY_API_TOKEN)
    if getattr(_thread, "client_key", None) != key:
        _thread.client, _thread.client_key = QwotyClient(), key
    return _thread.client


def diff(mirror, record, *, values: dict | None = None) -> dict:
    """The fields whose local value differs from the last-synced snapshot (None clears a field)."""
    values = values if values is not None else mirror.values(record)
    snapshot = mirror.upstream_values(record.last_synced)
    return {name: values[name] for name in mirror.fields if values[name] != snapshot[name]}


@transaction.atomic
def _finish_without_call(mirror, record) -> None:
    """The edit was undone before the push: nothing to send. Synced, unless edited again meanwhile."""
    current = mirror.model.objects.select_for_update().get(pk=record.pk)
    status = SyncStatus.PENDING if diff(mirror, current) else SyncStatus.SYNCED
    _set_state(current, status, attempts=0, error="")
    if status == SyncStatus.PENDING:
        enqueue_push(mirror.resource, record.pk)


_ANSWER_FIELDS = (
    "last_synced",
    "last_synced_at",
    "sync_error",
    "sync_error_at",
    "push_attempts",
    "pushing_since",
    "sync_status",
    "next_push_at",
)


@transaction.atomic
def _on_success(mirror, record, sent_values: dict, data: dict, attempt: PushAttempt) -> None:
    """Qwoty's answer becomes the snapshot and is applied to every field not edited while in flight."""
    statements.insert(attempt)
    with applying_upstream():
        if _apply_whole_answer(mirror, record, sent_values, data):
            still_dirty = False
        else:
            still_dirty = _merge_answer(mirror, record.pk, sent_values, data)
    if still_dirty:
        enqueue_push(mirror.resource, record.pk)
    if mirror.upstream_values(data) != sent_values:  # Qwoty changed a value (normalised it): the links get it too
        record_changed.send(sender=type(record), record=record)


def _apply_whole_answer(mirror, record, sent_values: dict, data: dict) -> bool:
    """The usual case, in one UPDATE: nobody edited the record while the PATCH was in flight.

    Staff edits go through `record_update`, and a refresh's through `pull.apply_upstream`; both bump `version`, so
    the UPDATE is guarded by the version read before the PATCH; it changes nothing (and this returns False) if an
    edit came in between. Rows of related tables (a customer's tax IDs) are read again too and must still be as
    sent: a write of those rows that bypassed `record_update` would not have moved the version.
    """
    if any(mirror.value(record, name) != sent_values[name] for name in mirror.related):
        return False
    names = mirror.fields + mirror.readonly
    mirror.assign(record, data, names)
    _mark_synced(record, data)
    columns = (*(name for name in names if name not in mirror.related), *_ANSWER_FIELDS)
    values = {name: getattr(record, name) for name in columns}
    guard = {"where": "{version} = %s", "params": (("version", record.version),)}
    if not statements.update(type(record), record.pk, values, **guard):
        return False
    # Related rows are rewritten only where Qwoty's answer differs from what we sent (say, a normalised value).
    upstream = mirror.upstream_values(data)
    mirror.after_save(record, data, tuple(name for name in mirror.related if upstream[name] != sent_values[name]))
    return True


def _merge_answer(mirror, record_id, sent_values: dict, data: dict) -> bool:
    """Apply the answer to the fields nobody edited in flight, keep the others; returns whether any was."""
    record = mirror.model.objects.select_for_update().get(pk=record_id)
    current = mirror.values(record)
    untouched = tuple(name for name in mirror.fields if current[name] == sent_values[name])
    names = untouched + mirror.readonly
    mirror.assign(record, data, names)
    _mark_synced(record, data)
    # An edit made while the PATCH was in flight is still to send.
    still_dirty = any(current[name] != sent_values[name] for name in mirror.fields)
    if still_dirty:
        record.sync_status, record.next_push_at = SyncStatus.PENDING, timezone.now()
    record.save(update_fields=[*(name for name in names if name not in mirror.related), *_ANSWER_FIELDS])
    # Related rows (a customer's tax IDs) are rewritten only when Qwoty's answer differs from them.
    upstream = mirror.upstream_values(data)
    mirror.after_save(
        record,
        data,
        tuple(name for name in untouched if name in mirror.related and upstream[name] != current[name]),
    )
    return still_dirty


def _mark_synced(record, data: dict) -> None:
    record.last_synced = data
    record.last_synced_at = timezone.now()
    record.sync_error = ""
    record.sync_error_at = None
    record.push_attempts = 0
    record.pushing_since = None
    record.sync_status = SyncStatus.SYNCED
    record.next_push_at = None


def _on_error(mirror, record, exc: UpstreamError, attempt: PushAttempt) -> str:
    """Store the attempt and what it leads to. A retry or a failure is written with the worker's next round when a
    worker runs the push (see `reports.reporting`); a pause at once, so that no other push calls with a refused
    token."""
    then = after_error(exc, record.push_attempts)
    write = functools.partial(_record_error, mirror, record, exc, attempt, then)
    report = reports.current()
    if report is None or then.outcome == PAUSED:
        transaction.atomic(write)()
    else:
        report.writes.append(write)
    return then.outcome


def _record_error(mirror, record, exc: UpstreamError, attempt: PushAttempt, then) -> None:
    statements.insert(attempt)
    if then.outcome == PAUSED:
        pause_target(f"Qwoty refused our token: {exc.message} (HTTP {exc.status}). Pushing is paused.")
    # Locked until this transaction ends, so a staff edit either came before (its version is read here) or waits
    # and then finds the record out of `pushing` (and queues its own push).
    now = statements.select_for_update(type(record), record.pk, ("sync_status", "pushing_since", "version"))
    if now is None or (now["sync_status"], now["pushing_since"]) != (SyncStatus.PUSHING, record.pushing_since):
        return  # written late (the worker's round), and the sweep gave the record to another push meanwhile
    if then.outcome == PAUSED:
        # Not the record's fault: it waits, pending, for the token to be fixed.
        _set_state(record, SyncStatus.PENDING, error=then.error)
    elif then.outcome == FAILED and now["version"] != record.version:
        # Edited while the refused call was out: the newer values may be what Qwoty takes, so they are sent now (the
        # refusal stays in the record's push history). Left failed, they would wait for a staff retry.
        _set_state(record, SyncStatus.PENDING, attempts=0, error="", next_push_at=timezone.now())
        enqueue_push(mirror.resource, record.pk)
    elif then.outcome == RETRYING:
        _set_state(record, SyncStatus.PENDING, attempts=then.attempts, error=then.error, next_push_at=then.retry_at)
        enqueue_push(mirror.resource, record.pk, run_after=then.retry_at)
    else:
        _set_state(record, SyncStatus.FAILED, attempts=then.attempts, error=then.error)


def _set_state(record, status, *, attempts=None, error=None, next_push_at=None) -> None:
    """Write only sync bookkeeping, never the record's data fields (staff may be editing them)."""
    now = timezone.now()
    fields = {"sync_status": status, "pushing_since": None, "next_push_at": next_push_at}
    if attempts is not None:
        fields["push_attempts"] = attempts
    if error is not None:
        fields["sync_error"] = error
        fields["sync_error_at"] = now if error else None
    type(record).objects.filter(pk=record.pk).update(**fields)
    for name, value in fields.items():
        setattr(record, name, value)


def _attempt(mirror, record, client, body, started, *, status=None, response_body=None, error=None) -> PushAttempt:
    """The call as it happened, saved by the transaction that records its outcome."""
    return PushAttempt(
        target=TARGET,
        resource=mirror.resource,
        record_id=record.pk,
        method="PATCH",
        url=redact_url(client.url(f"{mirror.resource}/{record.pk}")),
        request_body=redact_data(body),
        status=error.status if error else status,
        response_body=stored_response(error.body if error else redact_json(response_body)),
        duration_ms=round((time.monotonic() - started) * 1000),
        error_kind=error.kind if error else "",
        error_message=error.message if error else "",
        attempt=record.push_attempts + 1,
        user_id=record.edited_by_id,
    )


# -- what the target holds pending ----------------------------------------------------------------------


def enqueue_pending() -> int:
    """Queue every pending record of every resource; returns how many."""
    return sum(
        queue.queue_pending(mirror.model, functools.partial(enqueue_push, mirror.resource))
        for mirror in mirrors.all_mirrors()
    )


def target_resumed(sender, **kwargs) -> int:
    """`hooks.target_resumed`: Qwoty was resumed, its pending records are queued."""
    return enqueue_pending() if sender == TARGET else 0


def upstream_accepts_token() -> bool:
    """Whether Qwoty takes our token again (one small read)."""
    try:
        QwotyClient().list_page("catalogs", page=1, per_page=1)
    except UpstreamError:
        return False
    return True
