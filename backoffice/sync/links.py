"""Pushes to the secondary targets: a linked contact's whole object, sent after each change, every call stored.

The same state machine as Qwoty's pushes (`push.py`), on the link row instead of the record:
pending → pushing → synced, retried with backoff on 429/5xx/timeouts, failed at once on
400/404/422 (with the target's message), and the whole target paused on 401/403. These targets
overwrite on PUT, so there is no field diff: a change bumps the link's `version`, and a push whose
version moved while in flight is sent again. A body the target already holds is not sent twice.
"""

import functools
import logging
import time
from urllib.parse import urlencode

from django.db import DataError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from backoffice.redaction import redact_data, redact_json, redact_url
from backoffice.sync.http.errors import UnsafePath, UpstreamBadResponse, UpstreamError

from . import connectors, queue, reports, statements
from .models import PushAttempt, SyncStatus, stored_response
from .targets import (
    FAILED,
    NOT_DUE,
    NOTHING_TO_SEND,
    PAUSED,
    PUSHED,
    PUSHING,
    RETRYING,
    after_error,
    claim,
    pause_target,
)
from .task_errors import secrets_redacted

logger = logging.getLogger(__name__)

# A link in these states has its push queued already: a change only bumps its version.
_QUEUED = (SyncStatus.PENDING, SyncStatus.PUSHING)


# -- staff side --------------------------------------------------------------------------------------


def mark_contact_links_dirty(contact) -> None:
    """The contact changed (a staff edit, or Qwoty's answer or a pull changed a value): each of its links has a
    new version to send, in the change's transaction (the outbox). Any other record: nothing to do."""
    if not connectors.linkable(contact):
        return
    for connector in connectors.linked_to(contact.pk):
        # Locked: a push finishing now must see the new version, or this must see it finished.
        link = connector.model.objects.select_for_update().filter(contact_id=contact.pk).only("sync_status").first()
        if link is not None:  # unlinked meanwhile
            mark_dirty(connector, link)


def record_changed(sender, record, **kwargs) -> None:
    """`hooks.record_changed`: a contact's values changed, by staff or by Qwoty; its links have a new version."""
    mark_contact_links_dirty(record)


def mark_dirty(connector, link) -> None:
    """A new version of the link to send: pending, and queued unless it already is. Call with the link locked."""
    fields = {"version": F("version") + 1}
    queued = link.sync_status in _QUEUED
    if not queued:
        fields |= {"sync_status": SyncStatus.PENDING, "sync_error": "", "sync_error_at": None}
        fields |= {"push_attempts": 0, "next_push_at": timezone.now()}
    connector.model.objects.filter(pk=link.pk).update(**fields)
    if not queued:
        enqueue(connector.target, link.pk)


def enqueue(target: str, link_id, *, run_after=None) -> None:
    """Queue a push task (with the database queue, in the change's transaction: see queue.py)."""
    queue.enqueue(push_link, target, link_id, run_after=run_after)


def retry(connector, link) -> bool:
    """Staff asked to send a failed (or synced) link again, even unchanged: the target's copy may have been
    changed by someone else. Pending with a fresh attempt count."""
    with transaction.atomic():
        link = connector.model.objects.select_for_update().only("sync_status").get(pk=link.pk)
        if link.sync_status in _QUEUED:
            return False
        connector.model.objects.filter(pk=link.pk).update(last_sent=None)
        mark_dirty(connector, link)
    return True


def retry_all_failed() -> int:
    """Send every failed link again; returns how many."""
    count = 0
    for connector in connectors.all_connectors():
        for link in connector.model.objects.filter(sync_status=SyncStatus.FAILED).only("sync_status"):
            count += retry(connector, link)
    return count


def target_resumed(sender, **kwargs) -> int:
    """`hooks.target_resumed`: a secondary target was resumed, its pending links are queued."""
    return enqueue_pending(sender) if sender in connectors.targets() else 0


def enqueue_pending(target: str) -> int:
    """Queue every pending link of a target (it was paused); returns how many."""
    return queue.queue_pending(connectors.get(target).model, functools.partial(enqueue, target))


# -- worker side -------------------------------------------------------------------------------------


def push_now(target: str, link_id) -> str:
    """Push one link if it is due: claim it, check it, PUT the whole contact, store the attempt and the answer."""
    connector = connectors.get(target)
    claimed, wait, version = _claim(connector, link_id)
    if claimed != PUSHING:
        return claimed
    link = connector.model.objects.select_related("contact").filter(pk=link_id).first()
    if link is None:  # unlinked since the claim
        return NOT_DUE
    errors = connector.errors(link)
    if errors:  # what the target would refuse is not sent: staff fix it (the forms show the same checks)
        message = f"Not sent: {connector.label} would refuse it. " + " ".join(errors.values())
        _finish(connector, link, SyncStatus.FAILED, version, error=message, attempts=link.push_attempts)
        return FAILED
    try:
        call = connector.call(link)
    except UnsafePath as exc:  # an id its form would refuse, written some other way: nothing is sent
        message = f"Not sent: {exc.message}."
        _finish(connector, link, SyncStatus.FAILED, version, error=message, attempts=link.push_attempts)
        return FAILED
    if sent(call) == link.last_sent:
        _finish(connector, link, SyncStatus.SYNCED, version)
        return NOTHING_TO_SEND
    client = connector.client()
    if wait > 0:
        time.sleep(wait)
    started = time.monotonic()
    try:
        response = client.request(call.method, call.path, params=call.params or None, json=call.body)
        kept = _kept(connector, response)
    except UpstreamError as exc:
        reports.called(connector.target, exc)
        attempt = _attempt(connector, link, client, call, started, error=exc)
        return _on_error(connector, link, exc, attempt, version)
    reports.called(connector.target)
    attempt = _attempt(connector, link, client, call, started, status=response.status, answer=response.body)
    try:
        _on_success(connector, link, call, kept, version, attempt)
    except (IntegrityError, DataError) as exc:  # an answer no column takes (a NUL in JSON, on PostgreSQL)
        return _on_error(connector, link, _unexpected(connector, response, exc), attempt, version)
    return PUSHED


@task()
@secrets_redacted
def push_link(target: str, link_id: int) -> str:
    """The queue's task: "look at this link" (see `push_now`)."""
    return push_now(target, link_id)


def _kept(connector, response) -> dict:
    """The target's copy out of its answer; an answer not shaped as documented fails the link (and is stored)."""
    try:
        kept = connector.kept(response.body)
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        raise _unexpected(connector, response, exc) from exc
    if not isinstance(kept, dict):
        raise _unexpected(connector, response, TypeError(type(kept).__name__))
    return kept


def _unexpected(connector, response, exc) -> UpstreamBadResponse:
    message = f"{connector.label}'s answer is not shaped as documented ({exc!r}): nothing kept"
    return UpstreamBadResponse(message, status=response.status, body=redact_json(response.body)[:4000])


@transaction.atomic
def _claim(connector, link_id):
    """The shared claim, and the version being sent, read in the claim's transaction.

    Returns (PUSHING, seconds to wait, version) or (PAUSED | NOT_DUE, 0, None).
    """
    claimed, wait = claim(connector.model, link_id, connector.target)
    if claimed != PUSHING:
        return claimed, 0, None
    return claimed, wait, connector.model.objects.filter(pk=link_id).values_list("version", flat=True).get()


@transaction.atomic
def _on_success(connector, link, call, answer: dict, version: int, attempt: PushAttempt) -> None:
    statements.insert(attempt)
    fields = {"last_sent": sent(call), "last_answer": answer, "last_synced_at": timezone.now()}
    _finish(connector, link, SyncStatus.SYNCED, version, **fields)


def sent(call) -> dict:
    """What a link keeps of the request the target accepted: a push that would send the same sends nothing."""
    return {"query": call.params, "body": call.body}


@transaction.atomic
def _finish(connector, link, status, version: int, *, error="", attempts=0, next_push_at=None, **fields) -> None:
    """Write the push's outcome, unless the link changed while in flight: then it is pending and queued again."""
    values = {
        "sync_status": status,
        "sync_error": error,
        "sync_error_at": timezone.now() if error else None,
        "push_attempts": attempts,
        "pushing_since": None,
        "next_push_at": next_push_at,
        **fields,
    }
    rows = connector.model.objects.filter(pk=link.pk)
    if rows.filter(version=version).update(**values) or not rows.exists():  # written, or unlinked meanwhile
        return
    # Changed while in flight: the newer version goes next (what this push sent is not kept: the change may
    # be another contact id over there); after a failure, at the retry's time and with its count (an edit
    # does not cancel a backoff, nor a failure's count).
    if status == SyncStatus.SYNCED:
        again = {"sync_error": "", "sync_error_at": None, "push_attempts": 0, "next_push_at": timezone.now()}
    else:
        again = {key: values[key] for key in ("sync_error", "sync_error_at", "push_attempts", "next_push_at")}
        again["next_push_at"] = again["next_push_at"] or timezone.now()
    rows.update(sync_status=SyncStatus.PENDING, pushing_since=None, **again)
    enqueue(connector.target, link.pk, run_after=again["next_push_at"])


@transaction.atomic
def _on_error(connector, link, exc: UpstreamError, attempt: PushAttempt, version: int) -> str:
    statements.insert(attempt)
    then = after_error(exc, link.push_attempts)
    if then.outcome == PAUSED:
        reason = f"{connector.label} refused our credentials: {exc.message} (HTTP {exc.status}). Pushing is paused."
        pause_target(reason, connector.target)
    status = SyncStatus.FAILED if then.outcome == FAILED else SyncStatus.PENDING
    _finish(connector, link, status, version, error=then.error, attempts=then.attempts, next_push_at=then.retry_at)
    if then.outcome == RETRYING:
        enqueue(connector.target, link.pk, run_after=then.retry_at)
    return then.outcome


def _attempt(connector, link, client, call, started, *, status=None, answer=None, error=None) -> PushAttempt:
    """The call as it happened, saved by the transaction that records its outcome. Credentials are never in it."""
    query = f"?{urlencode(call.params)}" if call.params else ""
    return PushAttempt(
        target=connector.target,
        resource="contacts",
        record_id=link.contact_id,
        method=call.method,
        url=redact_url(client.url(call.path) + query),
        request_body=redact_data(call.body),
        status=error.status if error else status,
        response_body=stored_response(error.body if error else redact_json(answer)),
        duration_ms=round((time.monotonic() - started) * 1000),
        error_kind=error.kind if error else "",
        error_message=error.message if error else "",
        attempt=link.push_attempts + 1,
        user_id=link.contact.edited_by_id or link.linked_by_id,  # the contact's last editor, else who linked it
    )
