"""Import and refresh local records from Qwoty (`manage.py qwoty_pull`, "Refresh from Qwoty").

For each upstream object the outcome is one of created, updated, unchanged or conflict:
upstream changes are applied to fields staff have not edited since the last sync; a field
changed on both sides to different values is recorded as a conflict for staff to resolve,
never silently overwritten.
"""

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from backoffice.audit.models import Change
from backoffice.sync.qwoty import QwotyClient

from . import mirror as mirrors
from . import push
from .backoff import call_with_retries
from .context import applying_upstream
from .hooks import record_changed
from .models import SyncStatus

logger = logging.getLogger(__name__)

CREATED, UPDATED, UNCHANGED, CONFLICT, FAILED = "created", "updated", "unchanged", "conflict", "failed"


@dataclass
class PullSummary:
    counts: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1

    def __str__(self) -> str:
        return ", ".join(f"{self.counts[k]} {k}" for k in (CREATED, UPDATED, UNCHANGED, CONFLICT, FAILED))


def pull_resource(client: QwotyClient, mirror, summary: PullSummary, *, on_page=None) -> None:
    """Pull every object of one resource, page by page, retrying 429/5xx/timeouts with backoff."""
    page_number = 1
    while True:
        read_at = timezone.now()  # the page holds Qwoty's objects as they were then, or later
        response = call_with_retries(
            lambda page=page_number: client.list_page(mirror.resource, page=page),
            base=settings.QWOTY_RETRY_BASE_SECONDS,
        )
        page = [(_id(item), item) for item in response.data or []]
        existing = mirror.model.objects.in_bulk([pk for pk, _ in page if pk is not None])
        for pk, data in page:
            try:
                if pk is None:
                    raise ValueError("not an object with a UUID id")
                summary.add(apply_upstream(mirror, data, existing.get(pk), read_at=read_at))
            except (DatabaseError, KeyError, TypeError, ValueError, ValidationError) as exc:
                # One malformed or orphaned object must not stop the import: it is counted and reported.
                what = data.get("id") if isinstance(data, dict) else repr(data)[:60]
                logger.warning("Could not import %s %s: %s", mirror.resource, what, exc)
                summary.add(FAILED)
                summary.errors.append(f"{mirror.resource} {what}: {exc}")
        if on_page:
            on_page(mirror, response)
        total_pages = (response.body.get("pagination") or {}).get("total_pages", 0)
        if not page or page_number >= total_pages:
            return
        page_number += 1


def _id(item) -> uuid.UUID | None:
    """An upstream object's id, or None for anything that is not an object with a UUID id."""
    try:
        return uuid.UUID(str(item["id"]))
    except (KeyError, TypeError, ValueError):
        return None


def pull_record(record, *, client: QwotyClient | None = None) -> str:
    """Refresh one record from Qwoty; returns the outcome."""
    mirror = mirrors.for_model(record)
    read_at = timezone.now()
    response = (client or QwotyClient()).get(mirror.resource, record.pk)
    return apply_upstream(mirror, response.data, mirror.model.objects.get(pk=record.pk), read_at=read_at)


@transaction.atomic
def apply_upstream(mirror, data: dict, record=None, *, read_at: datetime | None = None) -> str:
    """Merge one upstream object into its local record (created if missing) without triggering a push. `read_at`:
    when the call that read it was sent."""
    with applying_upstream():
        if record is None:
            record = mirror.new(data)
            names = mirror.fields + mirror.readonly
            _save(mirror, record, data, names, status=SyncStatus.SYNCED)
            return CREATED

        record = mirror.model.objects.select_for_update().get(pk=record.pk)
        if record.last_synced == data or _behind(data, record, read_at):
            return UNCHANGED
        snapshot = mirror.upstream_values(record.last_synced)
        local = mirror.values(record)
        incoming = mirror.upstream_values(data)

        edited_locally = {name for name in mirror.fields if local[name] != snapshot[name]}
        changed_upstream = {name for name in mirror.fields if incoming[name] != snapshot[name]}
        conflicts = {
            name: {"local": local[name], "upstream": incoming[name]}
            for name in edited_locally & changed_upstream
            if local[name] != incoming[name]
        }
        if record.sync_status == SyncStatus.CONFLICT:
            # Not settled yet: still a conflict where ours still differs from Qwoty's copy, now this one. (The
            # snapshot is Qwoty's copy as of the conflict, so ours no longer reads as changed on both sides.)
            for name in (record.sync_conflict or {}).keys() & edited_locally - conflicts.keys():
                if local[name] != incoming[name]:
                    conflicts[name] = {"local": local[name], "upstream": incoming[name]}
        still_pending = {name for name in edited_locally - changed_upstream}
        names = tuple(changed_upstream - edited_locally) + mirror.readonly
        if conflicts:
            status = SyncStatus.CONFLICT
        elif still_pending:
            # Ours is still to send: a push already owed (pending, pushing, failed) stays as it is; a synced record,
            # or a conflict Qwoty settled by taking our values, is pending now, and its push queued.
            settled = record.sync_status in (SyncStatus.SYNCED, SyncStatus.CONFLICT)
            status = SyncStatus.PENDING if settled else record.sync_status
        else:
            status = SyncStatus.SYNCED
        applied = [name for name in names if name in mirror.fields]
        if applied:
            # As a staff edit does: an edit form or import opened before sees the change, field by field.
            record.version += 1
        newly_pending = status == SyncStatus.PENDING and record.sync_status != SyncStatus.PENDING
        if newly_pending:  # as a staff edit leaves it (`push.mark_dirty`): a fresh push, due now
            record.push_attempts, record.sync_error, record.sync_error_at = 0, "", None
            record.next_push_at = timezone.now()
        _save(mirror, record, data, names, status=status, conflict=conflicts or None)
        if newly_pending:
            push.enqueue_push(mirror.resource, record.pk)
        if applied:
            changes = {name: [local[name], incoming[name]] for name in applied}
            Change.objects.create(resource=mirror.resource, record_id=record.pk, from_qwoty=True, changes=changes)
            record_changed.send(sender=type(record), record=record)  # the links get what Qwoty now holds
        return CONFLICT if conflicts else UPDATED


def _behind(data: dict, record, read_at: datetime | None) -> bool:
    """Whether Qwoty's copy read by a pull is not news: our push of this record is in flight (its answer will
    bring Qwoty's whole object), or the copy is older than the one we hold: read before a push's answer (or another
    pull) was applied, by our clock, or older by Qwoty's `updated_at` (whose precision the API does not promise).
    Taken for an upstream change, it would revert our own edit or raise a conflict with ourselves. (Our clock: the
    worker's and the refresh's hosts are assumed to agree, as NTP keeps them.)"""
    if record.sync_status == SyncStatus.PUSHING:
        return True
    if read_at is not None and record.last_synced_at is not None and record.last_synced_at > read_at:
        return True
    read, held = _timestamp(data.get("updated_at")), _timestamp((record.last_synced or {}).get("updated_at"))
    return read is not None and held is not None and read < held


def _timestamp(value):
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _save(mirror, record, data, names, *, status, conflict=None) -> None:
    mirror.assign(record, data, names)
    record.last_synced = data
    record.last_synced_at = timezone.now()
    record.sync_status = status
    record.sync_conflict = conflict
    if status == SyncStatus.SYNCED:
        record.sync_error = ""
        record.sync_error_at = None
    record.save()
    mirror.after_save(record, data, names)
