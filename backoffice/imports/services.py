"""Bulk import: upload a CSV, preview it row by row, then apply the changed rows through the entity's own edit
service (versioned, recorded, pushed), with a conflict for any record edited since the preview."""

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_tasks import task

from backoffice.sync.edits import StaleEdit, UnresolvedConflict
from backoffice.sync.queue import enqueue
from backoffice.sync.task_errors import secrets_redacted

from . import parsing
from .entities import ERROR_COLUMN, IMPORTABLES, Importable
from .models import NOT_APPLIED, ImportJob, ImportRow, ImportStatus, RowStatus
from .preview import preview_rows

APPLY_CHUNK = 100
APPLY_ROWS_PER_TASK = 5_000


def import_start(*, resource: str, user, upload) -> ImportJob:
    """Keep an uploaded file as an import job and preview it: at once when small, else on the task queue.

    Raises ImportFileError (for the upload page) when the file cannot be imported at all; nothing is kept then.
    """
    importable = IMPORTABLES[resource]
    if not importable.may_import(user):
        raise PermissionDenied
    parsed = parsing.read_upload(upload, allowed=importable.columns(user), noun=importable.kind.singular)
    with transaction.atomic():
        job = ImportJob.objects.create(
            resource=resource,
            created_by=user,
            filename=(upload.name or "import.csv")[:255],
            content=parsed.text,
            delimiter=parsed.delimiter,
            header=parsed.header,
            columns=parsed.columns,
            total_rows=parsed.row_count,
        )
        if parsed.row_count > settings.QWOTY_IMPORT_INLINE_ROWS:
            _enqueue(preview_import, job)
    if parsed.row_count <= settings.QWOTY_IMPORT_INLINE_ROWS:
        import_preview(job_id=job.pk)
        job.refresh_from_db()
    return job


def import_preview(*, job_id) -> str:
    """Preview every row of a job (again from the start, if a dead worker left it half done)."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportStatus.PREVIEWING:
        return job.status
    ImportRow.objects.filter(job=job).delete()
    job.previewed_rows = 0
    preview_rows(job, IMPORTABLES[job.resource])
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWING).update(
        status=ImportStatus.READY, updated_at=timezone.now()
    )
    return ImportStatus.READY


def import_confirm(*, job: ImportJob, user) -> bool:
    """Start applying a previewed job; False when it was already started (a second click, another tab)."""
    if user.pk != job.created_by_id:
        raise PermissionDenied  # the preview was checked against its uploader's permissions
    with transaction.atomic():
        to_apply = job.rows.filter(status=RowStatus.CHANGE).count()
        started = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READY).update(
            status=ImportStatus.APPLYING, to_apply=to_apply, updated_at=timezone.now()
        )
        if started:
            _enqueue(apply_import, job)
    return bool(started)


def import_apply(*, job_id) -> str:
    """Apply a job's changed rows, `APPLY_CHUNK` per transaction; resumes where a dead worker stopped.

    One task applies at most `APPLY_ROWS_PER_TASK` rows, then queues the rest as a new task: a task stays well
    within RQ's job timeout, and the pushes queued meanwhile are not held behind a 50,000-row file.
    """
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportStatus.APPLYING:
        return job.status
    importable = IMPORTABLES[job.resource]
    applied = 0
    while applied < APPLY_ROWS_PER_TASK and (done := _apply_chunk(job, importable)):
        applied += done
    if applied >= APPLY_ROWS_PER_TASK:  # rows may be left: the next task finds out
        with transaction.atomic():
            _enqueue(apply_import, job)
        return ImportStatus.APPLYING
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.APPLYING).update(
        status=ImportStatus.DONE, finished_at=timezone.now(), updated_at=timezone.now(), content=""
    )
    return ImportStatus.DONE


@transaction.atomic
def _apply_chunk(job: ImportJob, importable: Importable) -> int:
    # Locked, and read again after any wait: two workers given the same job never apply a row twice.
    rows = list(job.rows.select_for_update().filter(status=RowStatus.CHANGE).order_by("line")[:APPLY_CHUNK])
    if not rows:
        return 0
    records = importable.model.objects.in_bulk([row.record_id for row in rows])  # the service reads what it needs
    for row in rows:
        _apply_row(row, records.get(_pk(importable, row.record_id)), importable, job.created_by)
    ImportRow.objects.bulk_update(rows, ["status", "errors"])
    done = job.rows.filter(status__in=(RowStatus.APPLIED, *NOT_APPLIED)).exclude(status=RowStatus.ERROR).count()
    ImportJob.objects.filter(pk=job.pk).update(applied_rows=done, updated_at=timezone.now())
    return len(rows)


def _apply_row(row: ImportRow, record, importable: Importable, user) -> None:
    noun = importable.kind.singular
    if record is None:
        row.status, row.errors = RowStatus.FAILED, [f"This {noun} no longer exists."]
        return
    data = {name: new for name, (_old, new) in row.changes.items()}
    try:
        with transaction.atomic():  # a refused row rolls back alone
            importable.save(record=record, user=user, data=data, expected_version=row.version)
    except StaleEdit as stale:
        row.status = RowStatus.CONFLICT
        row.errors = [
            f"Changed by someone else since the preview (now version {stale.current.version}); not overwritten."
        ]
    except UnresolvedConflict:
        row.status = RowStatus.CONFLICT
        row.errors = [f"This {noun} is now in conflict with Qwoty: settle it on its page first."]
    except ValidationError as exc:
        row.status = RowStatus.FAILED
        row.errors = [f"{name}: {message}" for name, messages in exc.message_dict.items() for message in messages]
    else:
        row.status = RowStatus.APPLIED


def _pk(importable: Importable, record_id: str):
    return importable.model._meta.pk.to_python(record_id)


def import_counts(job: ImportJob) -> dict[str, int]:
    """How many rows of the job are in each status (every status named, zero included)."""
    counts = dict.fromkeys(RowStatus.values, 0)
    counts |= dict(job.rows.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    counts["not_applied"] = sum(counts[status] for status in NOT_APPLIED)
    return counts


def import_error_rows(job: ImportJob) -> tuple[list[str], Iterator[list[str]]]:
    """The errors file: the rows not applied as uploaded, plus an `error` column (their line and why).

    A re-uploaded errors file has an error column already: it is replaced, not repeated. A ragged row keeps its
    extra cells, so nothing of the upload is lost.
    """
    kept = [index for index, name in enumerate(job.header) if name.strip().lower() != ERROR_COLUMN]
    header = [*(job.header[index] for index in kept), ERROR_COLUMN]

    def cells(row: ImportRow) -> list[str]:
        extra = row.cells[len(job.header) :]
        known = [row.cells[index] if index < len(row.cells) else "" for index in kept]
        return [*known, *extra, f"line {row.line}: " + " ".join(row.errors)]

    rows = job.rows.filter(status__in=NOT_APPLIED).order_by("line")
    return header, (cells(row) for row in rows.iterator())


def import_sweep() -> int:
    """Queue again the jobs a dead worker left previewing or applying (idle past QWOTY_IMPORT_STALE_SECONDS)."""
    stale = timezone.now() - timedelta(seconds=settings.QWOTY_IMPORT_STALE_SECONDS)
    queued = 0
    for job in ImportJob.objects.filter(
        status__in=[ImportStatus.PREVIEWING, ImportStatus.APPLYING], updated_at__lt=stale
    ):
        with transaction.atomic():
            # Touched now, so the next sweep waits as long again before queuing it once more.
            if ImportJob.objects.filter(pk=job.pk, updated_at=job.updated_at).update(updated_at=timezone.now()):
                _enqueue(preview_import if job.status == ImportStatus.PREVIEWING else apply_import, job)
                queued += 1
    return queued


def _enqueue(job_task, job: ImportJob) -> None:
    enqueue(job_task, str(job.pk), ahead=True)  # someone watches its progress; the pushes it queues come after


# The queue's tasks, declared beside what they run: thin, they take the job's id.


@task()
@secrets_redacted
def preview_import(job_id: str) -> str:
    return import_preview(job_id=job_id)


@task()
@secrets_redacted
def apply_import(job_id: str) -> str:
    return import_apply(job_id=job_id)
