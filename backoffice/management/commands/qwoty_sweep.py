"""Recover stalled pushes: records left `pushing` by a dead worker, pending records whose task was lost,
a target paused on a refused token once Qwoty accepts it again, and bulk imports a dead worker left half done;
then tell managers of any alert that was raised or cleared (backoffice/sync/alerts.py). Also queues the
scheduled refresh from Qwoty once per QWOTY_REFRESH_MINUTES.

Run once, or with `--every N` as a long-running process beside the worker (make run does).
"""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from backoffice.imports.services import import_sweep
from backoffice.sync import recovery, refresh


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds until stopped.")

    def handle(self, *args, every=0, **options):
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        while True:
            counts = recovery.sweep()
            if any(counts.values()) or not every:
                stale, overdue, resumed = counts["stale"], counts["overdue"], counts["resumed"]
                links = f"{counts['stale_links']} stale and {counts['overdue_links']} overdue links"
                notices = f"{counts['alerts']} alert notice{'s' if counts['alerts'] != 1 else ''}"
                recovered = f"{stale} stale, {overdue} overdue re-queued, {resumed} resumed"
                self.stdout.write(f"sweep: {recovered}; {links}; {notices}")
            imports_queued = import_sweep()
            if imports_queued:
                self.stdout.write(
                    f"sweep: {imports_queued} stalled import{'s' if imports_queued != 1 else ''} re-queued"
                )
            if refresh.schedule_if_due():
                self.stdout.write("sweep: refresh from Qwoty queued")
            if not every:
                return
            close_old_connections()
            try:
                self._sleep(every)
            except KeyboardInterrupt:
                return
            if not self.running:
                return

    def _sleep(self, seconds):
        deadline = time.monotonic() + seconds
        while self.running and time.monotonic() < deadline:
            time.sleep(min(0.2, seconds))

    def _stop(self, *args):
        self.running = False
