"""Downloads for audits: CSV (streamed rows, Excel-friendly UTF-8, and cells a spreadsheet will not run as
formulas) and JSON (a streamed array)."""

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.utils import timezone

# A cell starting with one of these is read as a formula (or DDE call) by Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value) -> str:
    """One value as a CSV cell: empty for None, ISO dates, and a leading quote before a formula character."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = str(value)
    # Upstream names and staff notes are untrusted: "=HYPERLINK(...)" must stay text in a spreadsheet. A value that
    # only looks quoted ("'-' separated") is quoted too, so an import (`imports.parsing.unescape`) reads it back whole.
    return "'" + text if text.lstrip("'").startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte-order mark makes Excel read UTF-8 (accented customer names) correctly.
    yield "\ufeff" + writer.writerow([spreadsheet_cell(label) for label in header])
    for row in rows:
        yield writer.writerow([spreadsheet_cell(value) for value in row])


def csv_download(*, name: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """A streamed CSV attachment named `<name>-<timestamp>.csv`: 100,000 rows never sit in memory."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


def json_download(*, name: str, items: Iterable[dict]) -> StreamingHttpResponse:
    """A streamed JSON array attachment named `<name>-<timestamp>.json`, an object per item (dates in ISO 8601)."""
    response = StreamingHttpResponse(_json_array(items), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.now():%Y%m%d-%H%M}.json"'
    return response


def _json_array(items: Iterable[dict]) -> Iterator[str]:
    separator = "[\n"
    for item in items:
        yield separator + json.dumps(item, cls=DjangoJSONEncoder, ensure_ascii=False)
        separator = ",\n"
    yield "[]\n" if separator == "[\n" else "\n]\n"
