"""Queue tasks of the bulk import: thin, they take the job's id."""

from django_tasks import task

from backoffice.sync.tasks import secrets_redacted

from . import services


@task()
@secrets_redacted
def preview_import(job_id: str) -> str:
    return services.import_preview(job_id=job_id)


@task()
@secrets_redacted
def apply_import(job_id: str) -> str:
    return services.import_apply(job_id=job_id)
