"""Reads for the push pages: what is waiting or failed, the paused targets, and the log of calls made upstream."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from backoffice.accounts.permissions import CHANGE_CONTACT_LINKS, can
from backoffice.records import KINDS, Kind
from backoffice.sync import connectors
from backoffice.sync.models import PushAttempt, SyncStatus, Target, TargetState

WAITING = (SyncStatus.PENDING, SyncStatus.PUSHING, SyncStatus.FAILED, SyncStatus.CONFLICT)
BUCKETS = {SyncStatus.FAILED: "failed", SyncStatus.CONFLICT: "conflict"}  # the rest: "pending"


@dataclass(frozen=True)
class QueueEntry:
    kind: Kind
    record: object  # a record, or a contact's link to a secondary target
    can_retry: bool
    target: str = Target.QWOTY

    @property
    def contact_or_record(self):
        return self.record if self.target == Target.QWOTY else self.record.contact

    @property
    def url(self) -> str:
        return self.kind.url("detail", self.contact_or_record.pk)

    @property
    def target_label(self) -> str:
        return Target(self.target).label


def push_queue(*, user, limit: int = 200) -> dict[str, list[QueueEntry]]:
    """Failed, in-conflict and in-flight records (and contacts' links) the user may see, oldest failure first.

    One query per entity and per secondary target.
    """
    queue = {"failed": [], "conflict": [], "pending": []}
    for kind in KINDS.values():
        if not kind.can_view(user):
            continue
        can_retry = kind.can_change(user)
        records = kind.model.objects.filter(sync_status__in=WAITING).order_by("sync_error_at", "next_push_at")
        entries = [QueueEntry(kind=kind, record=record, can_retry=can_retry) for record in records[:limit]]
        if kind.resource == "contacts":
            entries += _link_entries(kind, can(user, CHANGE_CONTACT_LINKS), limit)
        for entry in entries:
            queue[BUCKETS.get(entry.record.sync_status, "pending")].append(entry)
    return queue


def paused_targets() -> list[TargetState]:
    """The targets whose pushing is paused (a refused token), for the queue page to offer resuming them."""
    return list(TargetState.objects.filter(paused=True).order_by("target"))


def _link_entries(kind: Kind, can_retry: bool, limit: int) -> list[QueueEntry]:
    entries = []
    for connector in connectors.all_connectors():
        waiting = connector.model.objects.filter(sync_status__in=WAITING).select_related("contact")
        for link in waiting.order_by("sync_error_at", "next_push_at")[:limit]:
            entries.append(QueueEntry(kind=kind, record=link, can_retry=can_retry, target=connector.target))
    return entries


OUTCOMES = {
    "ok": Q(status__gte=200, status__lt=300),
    "error": ~Q(error_kind=""),
    "invalid": Q(error_kind="invalid"),
    "unavailable": Q(error_kind__in=["unavailable", "timeout", "connection"]),
    "rate_limited": Q(error_kind="rate_limited"),
    "refused": Q(error_kind__in=["unauthorized", "forbidden"]),
}


@dataclass(frozen=True)
class LogRow:
    attempt: PushAttempt
    record_name: str  # the record as staff know it; its id when it is gone

    @property
    def kind(self) -> Kind:
        return KINDS[self.attempt.resource]

    @property
    def record_url(self) -> str:
        return self.kind.url("detail", self.attempt.record_id)


@dataclass(frozen=True)
class AttemptPage:
    rows: list[LogRow]
    next_before: int | None  # id to pass as `before` for the next (older) page


def push_attempt_list(*, before: int | None = None, per_page: int = 50, **filters) -> AttemptPage:
    """The push log, newest first, filtered; keyset pagination on id so deep pages stay as fast as the first."""
    attempts = push_attempts_filtered(**filters).select_related("user")
    if before:
        attempts = attempts.filter(id__lt=before)
    rows = list(attempts[: per_page + 1])
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    names = _record_names(rows)
    log = [LogRow(row, names.get((row.resource, row.record_id), str(row.record_id))) for row in rows]
    return AttemptPage(rows=log, next_before=rows[-1].id if has_more else None)


def push_attempts_filtered(
    *,
    target: str = "",
    resource: str = "",
    outcome: str = "",
    since: date | None = None,
    until: date | None = None,
    record_id=None,
):
    """The push log's filters, newest first (the list page's and the export's)."""
    attempts = PushAttempt.objects.order_by("-id")
    if target:
        attempts = attempts.filter(target=target)
    if resource:
        attempts = attempts.filter(resource=resource)
    if outcome in OUTCOMES:
        attempts = attempts.filter(OUTCOMES[outcome])
    if since:
        attempts = attempts.filter(created_at__gte=_day_start(since))
    if until:
        attempts = attempts.filter(created_at__lt=_day_start(until, next_day=True))
    if record_id:
        attempts = attempts.filter(record_id=record_id)
    return attempts


EXPORT_CHUNK = 2000


def push_attempt_export_records(attempts) -> Iterator[dict]:
    """The filtered log, a dict per call, read a chunk at a time (names of a chunk's records in one query each)."""
    attempts = attempts.select_related("user")
    last_id = None
    while True:
        chunk = list((attempts.filter(id__lt=last_id) if last_id else attempts)[:EXPORT_CHUNK])
        if not chunk:
            return
        names = _record_names(chunk)
        for attempt in chunk:
            yield {
                "time": attempt.created_at,
                "target": attempt.get_target_display(),
                "entity": attempt.resource,
                "record_id": attempt.record_id,
                "record": names.get((attempt.resource, attempt.record_id), ""),
                "method": attempt.method,
                "url": attempt.url,
                "status": attempt.status,
                "error_kind": attempt.error_kind,
                "error": attempt.error_message,
                "duration_ms": attempt.duration_ms,
                "attempt": attempt.attempt,
                "changed_by": attempt.user.get_username() if attempt.user else "",
                "request_body": attempt.request_body,
                "response_body": attempt.response_body,
            }
        last_id = chunk[-1].id


def _record_names(attempts: list[PushAttempt]) -> dict[tuple[str, object], str]:
    """Each attempt's record by name: one query per entity on the page."""
    ids: dict[str, set] = {}
    for attempt in attempts:
        ids.setdefault(attempt.resource, set()).add(attempt.record_id)
    return {
        (resource, pk): str(record)
        for resource, pks in ids.items()
        if resource in KINDS
        for pk, record in KINDS[resource].model.objects.in_bulk(pks).items()
    }


def _day_start(day: date, *, next_day: bool = False) -> datetime:
    if next_day:
        day = day + timedelta(days=1) if day < date.max else day  # "until 9999-12-31": no end, not an overflow
    return timezone.make_aware(datetime.combine(day, time.min))
