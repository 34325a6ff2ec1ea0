"""A CSV import of contact or catalog changes: the file, its per-row preview, and how applying it went."""

import uuid

from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    PREVIEWING = "previewing", "Reading the file"
    READY = "ready", "Preview ready"
    APPLYING = "applying", "Applying"
    DONE = "done", "Done"
    FAILED = "failed", "Could not be read"


class RowStatus(models.TextChoices):
    UNCHANGED = "unchanged", "Unchanged"
    CHANGE = "change", "Will change"
    ERROR = "error", "Error"
    APPLIED = "applied", "Applied"
    CONFLICT = "conflict", "Conflict"
    FAILED = "failed", "Refused"


# Rows that were not applied and go into the errors file, so nothing of the upload is lost.
NOT_APPLIED = (RowStatus.ERROR, RowStatus.CONFLICT, RowStatus.FAILED)


class ImportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resource = models.CharField(max_length=16)  # "contacts" or "catalogs", as in Change.resource
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Touched by every step of a preview or an apply: the sweep resumes a job idle for too long.
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(max_length=255)
    # The uploaded file, decoded; kept until the import is done so a dead worker's job can start again.
    content = models.TextField()
    delimiter = models.CharField(max_length=1, default=",")
    header = models.JSONField(default=list)  # the file's first line, as written (the errors file's header)
    columns = models.JSONField(default=list)  # the fields the file changes, in its order
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.PREVIEWING)
    error = models.TextField(blank=True)  # why the file could not be read at all
    total_rows = models.PositiveIntegerField(default=0)
    previewed_rows = models.PositiveIntegerField(default=0)
    applied_rows = models.PositiveIntegerField(default=0)  # rows of the apply done, whatever their outcome
    to_apply = models.PositiveIntegerField(default=0)  # rows the apply started with

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="import_job_stale")]

    def __str__(self):
        return f"{self.filename} ({self.resource}, {self.get_status_display()})"

    @property
    def in_progress(self) -> bool:
        return self.status in (ImportStatus.PREVIEWING, ImportStatus.APPLYING)


class ImportRow(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()  # the row's line in the file, header = 1
    record_id = models.CharField(max_length=64, blank=True)  # as written, even when it is no id of ours
    status = models.CharField(max_length=16, choices=RowStatus.choices)
    version = models.PositiveIntegerField(null=True)  # the record's version the preview was made against
    changes = models.JSONField(default=dict)  # {field: [old, new]} in upstream JSON values
    errors = models.JSONField(default=list)
    cells = models.JSONField(default=list)  # the row as uploaded, for the errors file

    class Meta:
        ordering = ["line"]
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="import_row_line")]
        indexes = [models.Index(fields=["job", "status", "line"], name="import_row_status")]

    def __str__(self):
        return f"line {self.line}: {self.get_status_display()}"
