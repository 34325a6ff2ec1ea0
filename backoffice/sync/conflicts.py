"""Conflicts: a field changed here (not yet pushed) and in Qwoty to a different value. Staff choose a side."""

from django.db import transaction

from . import mirror as mirrors
from .edits import record_update
from .models import SyncStatus
from .push import diff, mark_dirty

KEEP_LOCAL, KEEP_UPSTREAM = "local", "upstream"


@transaction.atomic
def resolve_conflict(*, record, user, keep: str):
    """Settle every conflicting field on one side; returns the record.

    Keeping Qwoty's values is a staff edit like any other (history, version); keeping ours queues
    the PATCH that overwrites Qwoty's. Either way the record leaves the conflict state.
    """
    if keep not in (KEEP_LOCAL, KEEP_UPSTREAM):
        raise ValueError(f"keep must be {KEEP_LOCAL!r} or {KEEP_UPSTREAM!r}")
    mirror = mirrors.for_model(record)
    current = type(record).objects.select_for_update().get(pk=record.pk)
    if current.sync_status != SyncStatus.CONFLICT:
        return current
    # The fields in conflict; a conflict recorded without them (before refreshes kept them) is every field of ours.
    fields = list(current.sync_conflict or diff(mirror, current))
    type(current).objects.filter(pk=current.pk).update(sync_status=SyncStatus.SYNCED, sync_conflict=None)
    current.refresh_from_db()
    if keep == KEEP_UPSTREAM:
        upstream = mirror.upstream_values(current.last_synced)
        current = record_update(record=current, user=user, data={name: upstream[name] for name in fields})
    if diff(mirror, current):
        mark_dirty(current)
    else:
        # Nothing of ours is left to send: synced now, not pending until a worker finds the empty diff.
        type(current).objects.filter(pk=current.pk).update(sync_status=SyncStatus.SYNCED, sync_error="")
    current.refresh_from_db()
    return current
