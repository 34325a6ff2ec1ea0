"""The push log as filtered, as CSV or JSON for audits: which columns, and the download streamed."""

import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from backoffice.ui.csv_export import csv_download, json_download

from .selectors import push_attempt_export_records, push_attempts_filtered

# The export's columns: (heading, key of push_attempt_export_records()'s dicts).
EXPORT_COLUMNS = (
    ("time", "time"),
    ("target", "target"),
    ("entity", "entity"),
    ("record id", "record_id"),
    ("record", "record"),
    ("method", "method"),
    ("url", "url"),
    ("status", "status"),
    ("error kind", "error_kind"),
    ("error", "error"),
    ("duration ms", "duration_ms"),
    ("attempt", "attempt"),
    ("changed by", "changed_by"),
    ("request body", "request_body"),
    ("response body", "response_body"),
)


def push_log_download(*, format: str, filters: dict) -> StreamingHttpResponse:
    """The whole filtered log, as "csv" or "json": streamed, bodies included (stored without secrets)."""
    records = push_attempt_export_records(push_attempts_filtered(**filters))
    if format == "json":
        return json_download(name="push-log", items=records)
    header = [heading for heading, _ in EXPORT_COLUMNS]
    return csv_download(name="push-log", header=header, rows=push_attempt_export_rows(records))


def push_attempt_export_rows(records: Iterator[dict]) -> Iterator[list]:
    """The records as CSV rows, in EXPORT_COLUMNS' order; the request body as JSON text."""
    for record in records:
        body = record["request_body"]
        record["request_body"] = "" if body is None else json.dumps(body, ensure_ascii=False)
        yield [record[key] for _, key in EXPORT_COLUMNS]
