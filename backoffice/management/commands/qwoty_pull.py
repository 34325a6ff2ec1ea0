"""Import and refresh customers, contacts and catalogs from Qwoty (QWOTY_API_URL).

Idempotent: a second run reports everything unchanged. Retries 429/5xx with backoff, shows a
progress bar on a terminal and ends with a summary. A wrong URL, a refused token or an
unreachable upstream ends with one clear line and exit status 1.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from backoffice.redaction import redact_url
from backoffice.sync import mirror as mirrors
from backoffice.sync.http.errors import (
    UpstreamConnectionError,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamUnauthorized,
)
from backoffice.sync.pull import PullSummary, pull_resource
from backoffice.sync.qwoty import QwotyClient


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--url", help="Qwoty API base URL (default: QWOTY_API_URL).")
        parser.add_argument(
            "--only", choices=[m.resource for m in mirrors.all_mirrors()], action="append", help="Pull only these."
        )
        parser.add_argument("--no-progress", action="store_true", help="Never show the progress bar.")

    def handle(self, *args, url=None, only=None, no_progress=False, **options):
        client = QwotyClient(base_url=url)
        summary = PullSummary()
        show_progress = not no_progress and sys.stderr.isatty()
        started = time.monotonic()
        for mirror in mirrors.all_mirrors():
            if only and mirror.resource not in only:
                continue
            bar = tqdm(desc=mirror.resource, unit=" obj", disable=not show_progress, leave=True)

            def on_page(mirror, response, bar=bar):
                bar.total = (response.body.get("pagination") or {}).get("total")
                bar.update(len(response.data or []))

            try:
                pull_resource(client, mirror, summary, on_page=on_page)
            except UpstreamError as exc:
                raise CommandError(_explain(exc, client)) from None
            finally:
                bar.close()
        elapsed = time.monotonic() - started
        for line in summary.errors[:20]:
            self.stderr.write(f"  failed: {line}")
        self.stdout.write(f"Pulled from {redact_url(client.base_url)} in {elapsed:.1f}s: {summary}")
        if summary.counts["failed"]:
            raise CommandError(f"{summary.counts['failed']} object(s) could not be imported.")


def _explain(exc: UpstreamError, client: QwotyClient) -> str:
    if isinstance(exc, UpstreamUnauthorized):
        return f"Qwoty refused the token ({exc.message}); check QWOTY_API_TOKEN."
    if isinstance(exc, UpstreamForbidden):
        return f"The token lacks a permission ({exc.message}); check QWOTY_API_TOKEN's scopes."
    if isinstance(exc, UpstreamNotFound):
        return f"No Qwoty API at {redact_url(client.base_url)} (HTTP 404); check QWOTY_API_URL, it must end in /api."
    if isinstance(exc, UpstreamConnectionError):
        return f"Cannot reach Qwoty: {exc.message}."
    status = f" (HTTP {exc.status})" if exc.status else ""
    return f"Qwoty error at {redact_url(client.base_url)}: {exc.message}{status}"
