"""Sync bookkeeping shared by every mirrored record."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SyncStatus(models.TextChoices):
    SYNCED = "synced", "Synced"
    PENDING = "pending", "Pending"
    PUSHING = "pushing", "Pushing"
    FAILED = "failed", "Failed"
    CONFLICT = "conflict", "Conflict"


class SyncedRecord(models.Model):
    """A local mirror of an upstream object: its upstream UUID, last-synced snapshot and sync state.

    `last_synced` is the upstream object exactly as last seen (pull or push answer); the push
    layer diffs the record's current values against it, so it is the single source of "what
    Qwoty has".
    """

    id = models.UUIDField(primary_key=True, editable=False)
    created_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="Upstream creation time.")
    updated_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="Upstream update time.")

    last_synced = models.JSONField(null=True, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    sync_status = models.CharField(
        max_length=16, choices=SyncStatus.choices, default=SyncStatus.SYNCED, db_index=True, editable=False
    )
    sync_error = models.TextField(blank=True, editable=False)
    sync_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    # {field: {"local": value, "upstream": value}} while a pull found both sides changed.
    sync_conflict = models.JSONField(null=True, blank=True, editable=False)
    # Bumped by every staff save: optimistic locking against lost updates, and how the push
    # layer notices an edit made while a PATCH was in flight.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Who made the latest staff edit (as the newest `Change` says): each push attempt names them,
    # without a query of the change history per push.
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # Push bookkeeping, owned by backoffice.sync.push (not by the task queue).
    push_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    next_push_at = models.DateTimeField(null=True, blank=True, editable=False)
    pushing_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["sync_status", "next_push_at"], name="%(class)s_push_due")]


class Target(models.TextChoices):
    QWOTY = "qwoty", "Qwoty"
    # Secondary targets: contacts linked to them explicitly are pushed there too (contacts/connectors/).
    PRIOTICKET = "prioticket", "Prioticket"
    KOYWE = "koywe", "Koywe"


class TargetLink(models.Model):
    """A local record linked to its copy in a secondary target, with that copy's push state.

    Secondary targets take the whole object (PUT), so there is no field diff: `version` is bumped by
    every change to send, and a push whose version moved while in flight is sent again.
    """

    sync_status = models.CharField(
        max_length=16, choices=SyncStatus.choices, default=SyncStatus.PENDING, db_index=True, editable=False
    )
    sync_error = models.TextField(blank=True, editable=False)
    sync_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    push_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    next_push_at = models.DateTimeField(null=True, blank=True, editable=False)
    pushing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # The body the target last accepted (a push that would send it again sends nothing), and the
    # target's copy as its answer gave it.
    last_sent = models.JSONField(null=True, blank=True, editable=False)
    last_answer = models.JSONField(null=True, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    linked_at = models.DateTimeField(auto_now_add=True, editable=False)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        abstract = True


# The most of an answer a PushAttempt keeps: any answer the APIs give fits, and a hostile one (up to the 1 MiB
# the client reads) cannot bloat the table, nor the push log's pages.
RESPONSE_BODY_LIMIT = 64 * 1024


def stored_response(text: str) -> str:
    """`text` as a PushAttempt keeps it: whole, or its first RESPONSE_BODY_LIMIT characters and a marker."""
    if len(text) <= RESPONSE_BODY_LIMIT:
        return text
    return f"{text[:RESPONSE_BODY_LIMIT]}\n[cut: {len(text)} characters, the first {RESPONSE_BODY_LIMIT} kept]"


class PushAttempt(models.Model):
    """One call made upstream for a record, stored whatever its outcome. Never holds a token."""

    target = models.CharField(max_length=32, choices=Target.choices, default=Target.QWOTY)
    resource = models.CharField(max_length=32)
    record_id = models.UUIDField()
    method = models.CharField(max_length=8)
    url = models.URLField(max_length=500)
    request_body = models.JSONField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no answer
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error_kind = models.CharField(max_length=32, blank=True)  # "", "invalid", "timeout", ...
    error_message = models.TextField(blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["resource", "record_id", "-created_at"], name="pushattempt_record"),
            models.Index(fields=["error_kind", "-created_at"], name="pushattempt_kind"),
        ]

    def __str__(self):
        return f"{self.method} {self.url} → {self.status or self.error_kind}"

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class TargetState(models.Model):
    """Per-target switches: paused after a 401/403 (no retry storm on a bad token), the rate-limit slot, and whether
    a worker holds its pushes back because it is down."""

    target = models.CharField(max_length=32, choices=Target.choices, primary_key=True)
    paused = models.BooleanField(default=False)
    paused_reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # Earliest time the next request may start: shared by every worker, so the rate limit is per target.
    next_slot_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker holds the target's pushes back, its calls failing as a target that is down fails
    # (sync/circuit.py); cleared once one goes through.
    failing_since = models.DateTimeField(null=True, blank=True)
    failing_reason = models.TextField(blank=True)

    def __str__(self):
        return f"{self.target} ({'paused' if self.paused else 'active'})"


class RefreshRun(models.Model):
    """One scheduled refresh from Qwoty: queued by the sweep once per interval, run by a worker."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATUSES = [(QUEUED, "Queued"), (RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed")]

    # The interval it belongs to (epoch seconds // interval): unique, so sweeps on several nodes queue one run.
    slot = models.BigIntegerField(unique=True)
    status = models.CharField(max_length=8, choices=STATUSES, default=QUEUED)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # created, updated, unchanged, conflict, failed
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-slot"]

    def __str__(self):
        return f"refresh {self.slot} ({self.status})"


class AlertState(models.TextChoices):
    RAISED = "raised", "Raised"
    CLEAR = "clear", "Clear"


class Alert(models.Model):
    """A named condition of one target (`qwoty:paused`, `koywe:failing`, `prioticket:failed_records`) as managers
    were last told of it. The sweep compares it with the condition as it reads it now (`sync/alerts.py`)."""

    key = models.CharField(max_length=64, primary_key=True)
    state = models.CharField(max_length=8, choices=AlertState.choices, default=AlertState.CLEAR)
    # When the alert last changed state (raised: since when the condition holds).
    since = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    # Failed records: the newest failure a notice has counted; later ones go in the next notice.
    notified_until = models.DateTimeField(null=True, blank=True)
    # The latest notice's subject, what the dashboard says of a raised alert.
    summary = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.key} ({self.state})"

    @property
    def target(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def condition(self) -> str:
        return self.key.split(":", 1)[1]

    @property
    def raised(self) -> bool:
        return self.state == AlertState.RAISED

    @property
    def label(self) -> str:
        conditions = {"paused": "paused", "failing": "failing", "failed_records": "failed records"}
        return f"{Target(self.target).label} {conditions.get(self.condition, self.condition)}"


class NoticeKind(models.TextChoices):
    RAISED = "raised", "Raised"
    MORE = "more", "More of the same"  # failed records: more failed since the last notice
    RECOVERED = "recovered", "Recovered"


class AlertNotice(models.Model):
    """One notice sent about an alert (by email to the managers, and on the dashboard). Holds no secret."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    emailed_to = models.PositiveIntegerField(default=0)  # how many addresses the email went to
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.subject
