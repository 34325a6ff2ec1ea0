"""Recovery, for every target: what a dead worker or a lost task left behind is queued again, a paused Qwoty is
resumed once it accepts our token, and managers are told what changed (`alerts.evaluate`).

Looks only at our rows (records for Qwoty, links for the secondary targets), never at task rows: each target's
rows say what is owed. `manage.py qwoty_sweep` runs `sweep` (with the imports' sweep and the scheduled refresh).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Model, Q
from django.utils import timezone
from django_tasks import task

from . import alerts, connectors, links, push
from . import mirror as mirrors
from .circuit import longest_hold
from .http.errors import DOWN_KINDS
from .models import PushAttempt, SyncStatus, TargetState
from .queue import queue_pending
from .targets import mark_failing, resume, target_state
from .task_errors import secrets_redacted


@dataclass(frozen=True)
class Rows:
    """One table of rows owed to a target, and how one of them is queued."""

    model: type[Model]
    enqueue: Callable[[object], None]
    suffix: str  # of the sweep's counts: "" for Qwoty's records, "_links" for the secondary targets' links
    target: str


def owed_rows() -> list[Rows]:
    """Every registered target's rows: Qwoty's records of each resource, then each connector's links."""
    rows = [
        Rows(mirror.model, lambda pk, resource=mirror.resource: push.enqueue_push(resource, pk), "", push.TARGET)
        for mirror in mirrors.all_mirrors()
    ]
    rows += [
        Rows(connector.model, lambda pk, target=connector.target: links.enqueue(target, pk), "_links", connector.target)
        for connector in connectors.all_connectors()
    ]
    return rows


def sweep() -> dict:
    """Recover what a dead worker or a lost task left behind, resume a paused target once Qwoty accepts us, and tell
    managers what changed.

    - `pushing` for longer than QWOTY_PUSH_STALE_SECONDS: the worker died mid-push → pending, queued.
    - `pending` and overdue by as long (or with no due time): its task was lost → queued again; not while a worker
      holds the target back (`circuit.py`): its tasks wait in the queue, and a duplicate each sweep would pile up.
    - alerts (paused, failing, failed records) read after that, so a target resumed now is told recovered now.
    """
    stale = timezone.now() - timedelta(seconds=settings.QWOTY_PUSH_STALE_SECONDS)
    counts = {"stale": 0, "overdue": 0, "resumed": 0, "stale_links": 0, "overdue_links": 0}
    held = held_targets()
    for rows in owed_rows():
        counts[f"stale{rows.suffix}"] += _requeue_stale(rows, stale)
        # Pending and overdue (or with no due time: its task may have died with a worker before the claim): queued
        # again and made due now, so a long queue is not queued again at every sweep.
        if rows.target not in held:
            overdue = Q(next_push_at__lt=stale) | Q(next_push_at__isnull=True)
            counts[f"overdue{rows.suffix}"] += queue_pending(rows.model, rows.enqueue, overdue)
    if target_state().paused and push.upstream_accepts_token():
        counts["resumed"] = resume()
    counts["alerts"] = len(alerts.evaluate())
    return counts


@task()
@secrets_redacted
def sweep_task() -> dict:
    """The queue's task: one sweep."""
    return sweep()


def held_targets() -> set[str]:
    """The targets a worker holds back (`circuit.py`), as the marks on their states say. A mark is dropped here once
    it no longer holds: the target answered a call since (another worker's circuit is closed; a 4xx is an answer
    too), or no call to it failed as a down target fails for twice the longest a holding worker leaves between two
    probes' calls, so the worker that set it is gone (killed, or stopped while holding) and its pushes would wait
    for nobody."""
    quiet_since = timezone.now() - 2 * timedelta(seconds=longest_hold() + settings.QWOTY_CALL_DEADLINE_SECONDS)
    held = set()
    for state in TargetState.objects.exclude(failing_since=None):
        since = PushAttempt.objects.filter(target=state.target, created_at__gt=state.failing_since)
        answered = since.filter(status__isnull=False).exclude(error_kind__in=DOWN_KINDS).exists()
        last_failed = since.filter(error_kind__in=DOWN_KINDS).aggregate(last=Max("created_at"))["last"]
        if answered or (last_failed or state.failing_since) < quiet_since:
            mark_failing(state.target, None)
        else:
            held.add(state.target)
    return held


def _requeue_stale(rows: Rows, stale) -> int:
    """Rows left `pushing` since before `stale`: their worker died mid-push. Pending again, queued."""
    model, now, count = rows.model, timezone.now(), 0
    ids = list(
        model.objects.filter(sync_status=SyncStatus.PUSHING, pushing_since__lt=stale).values_list("pk", flat=True)
    )
    with transaction.atomic():
        for pk in ids:
            if model.objects.filter(pk=pk, sync_status=SyncStatus.PUSHING).update(
                sync_status=SyncStatus.PENDING, pushing_since=None, next_push_at=now
            ):
                count += 1
                rows.enqueue(pk)
    return count
