"""Scheduled refresh from Qwoty: every QWOTY_REFRESH_MINUTES the sweep queues one pull of everything, which a
worker runs. Records changed in Qwoty are refreshed; a field also edited here and not pushed yet becomes a
conflict for staff to settle (`pull.apply_upstream`), never an overwrite. The dashboard shows the last run.

Qwoty's list endpoints take no "changed since" filter, so each run reads every page; an object whose copy is
unchanged costs a comparison, not a write.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from backoffice.redaction import redact
from backoffice.sync.http.errors import UpstreamError
from backoffice.sync.qwoty import QwotyClient

from . import mirror as mirrors
from . import queue
from .models import RefreshRun
from .pull import PullSummary, pull_resource
from .task_errors import secrets_redacted

logger = logging.getLogger(__name__)


def schedule_if_due(*, now=None) -> RefreshRun | None:
    """Queue this interval's refresh unless it is queued already (by this sweep or another node's)."""
    minutes = settings.QWOTY_REFRESH_MINUTES
    if minutes <= 0:
        return None
    slot = int((now or timezone.now()).timestamp() // (minutes * 60))
    if RefreshRun.objects.filter(slot=slot).exists():
        return None
    try:
        with transaction.atomic():
            run = RefreshRun.objects.create(slot=slot)
            queue.enqueue(refresh_from_qwoty, run.pk)
    except IntegrityError:
        return None  # another sweep queued it a moment ago
    return run


def run_refresh(run_id: int) -> str:
    """Pull every record from Qwoty for run `run_id`, once: a duplicate task finds it taken and does nothing."""
    now = timezone.now()
    if not RefreshRun.objects.filter(pk=run_id, status=RefreshRun.QUEUED).update(
        status=RefreshRun.RUNNING, started_at=now
    ):
        return "taken"
    summary = PullSummary()
    client = QwotyClient()
    try:
        for mirror in mirrors.all_mirrors():
            pull_resource(client, mirror, summary)
    except UpstreamError as exc:
        logger.warning("Refresh from Qwoty failed: %s", redact(exc.message))
        return _finish(run_id, summary, RefreshRun.FAILED, redact(exc.message))
    except Exception as exc:
        # Told failed (a run left "running" would stand on the dashboard for good), and raised: the task's traceback.
        _finish(run_id, summary, RefreshRun.FAILED, redact(f"{type(exc).__name__}: {exc}")[:500])
        raise
    return _finish(run_id, summary, RefreshRun.DONE)


def _finish(run_id: int, summary: PullSummary, status: str, error: str = "") -> str:
    counts = dict(summary.counts)
    RefreshRun.objects.filter(pk=run_id).update(status=status, finished_at=timezone.now(), counts=counts, error=error)
    return status


@task()
@secrets_redacted
def refresh_from_qwoty(run_id: int) -> str:
    """The queue's task: run refresh `run_id` (see `run_refresh`)."""
    return run_refresh(run_id)


def last_runs() -> dict:
    """For the dashboard: the last finished run, and the one under way if any."""
    finished = RefreshRun.objects.filter(status__in=(RefreshRun.DONE, RefreshRun.FAILED)).first()
    running = RefreshRun.objects.filter(status=RefreshRun.RUNNING).first()
    return {"last": finished, "running": running, "every": settings.QWOTY_REFRESH_MINUTES}
