"""Reads for the import pages: a user's recent jobs, one job as its viewer may see it, a job's rows by status."""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import ImportJob, ImportRow

RECENT_JOBS = 5


def recent_jobs(*, resource: str, user) -> QuerySet[ImportJob]:
    """The user's last imports of `resource`, without their files."""
    return ImportJob.objects.filter(resource=resource, created_by=user).defer("content")[:RECENT_JOBS]


def visible_job(*, pk, user) -> ImportJob:
    """Its uploader's job (a superuser sees every one); anyone else is told it does not exist (Http404)."""
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk)
    if job.created_by_id != user.pk and not user.is_superuser:
        raise Http404
    return job


def job_rows(job: ImportJob, *, statuses) -> QuerySet[ImportRow]:
    """The job's rows of these statuses, in file order."""
    return job.rows.filter(status__in=statuses).order_by("line")


def label_records(rows: list[ImportRow], model) -> None:
    """Set each row's `label`: the name of the record it names (one query for the page), if it is one of ours."""
    ids = [row.record_id for row in rows if row.version is not None]
    names = {str(record.pk): str(record) for record in model.objects.filter(pk__in=ids)} if ids else {}
    for row in rows:
        row.label = names.get(row.record_id, "")
