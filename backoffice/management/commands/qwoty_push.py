"""Push local edits to Qwoty now, without waiting for the worker.

`qwoty_push --all-pending` pushes every pending (and failed, with --include-failed) record with a
progress bar; `qwoty_push --record <uuid>` pushes one record. Uses the same push layer as the
worker: same diff, same stored attempts, same claim (a record the worker is pushing is skipped).
"""

import sys
import uuid

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from backoffice.sync import mirror as mirrors
from backoffice.sync import push, targets
from backoffice.sync.models import SyncStatus


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all-pending", action="store_true", help="Push every pending record.")
        which.add_argument("--record", type=uuid.UUID, help="Push this customer, contact or catalog.")
        parser.add_argument("--include-failed", action="store_true", help="Retry failed records too.")

    def handle(self, *args, all_pending=False, record=None, include_failed=False, **options):
        if targets.target_state().paused:
            raise CommandError(f"Pushing is paused: {targets.target_state().paused_reason}")
        if record:
            resource, found = _find(record)
            outcome = _push_one(resource, found, include_failed=include_failed)
            found.refresh_from_db()
            self.stdout.write(f"{resource} {record}: {outcome} ({found.sync_status})")
            if found.sync_status == SyncStatus.FAILED:
                raise CommandError(found.sync_error)
            return
        statuses = [SyncStatus.PENDING, SyncStatus.FAILED] if include_failed else [SyncStatus.PENDING]
        owed = [
            (mirror.resource, pk)
            for mirror in mirrors.all_mirrors()
            for pk in mirror.model.objects.filter(sync_status__in=statuses).values_list("pk", flat=True)
        ]
        outcomes = {}
        for resource, pk in tqdm(owed, disable=not sys.stderr.isatty(), unit=" rec"):
            outcome = _push_one(resource, mirrors.get(resource).model.objects.get(pk=pk), include_failed=include_failed)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "nothing pending"
        self.stdout.write(f"{len(owed)} record(s): {summary}")


def _find(record_id):
    for mirror in mirrors.all_mirrors():
        found = mirror.model.objects.filter(pk=record_id).first()
        if found:
            return mirror.resource, found
    raise CommandError(f"No customer, contact or catalog with id {record_id}.")


def _push_one(resource: str, record, *, include_failed: bool) -> str:
    if include_failed and record.sync_status == SyncStatus.FAILED:
        push.retry(record)
    # Bring a backed-off pending record forward: an operator asked for it now.
    type(record).objects.filter(pk=record.pk, sync_status=SyncStatus.PENDING).update(next_push_at=None)
    return push.push_now(resource, record.pk)
