"""Reading an uploaded CSV: size, encoding, delimiter and header are checked before anything else happens."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from backoffice.ui.csv_export import FORMULA_PREFIXES

from .entities import ERROR_COLUMN, ID_COLUMN, VERSION_COLUMN


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message says why and what to do, for the upload page."""


@dataclass(frozen=True)
class ParsedFile:
    text: str
    delimiter: str
    header: list[str]
    columns: list[str]  # the fields it changes
    row_count: int


def decode(raw: bytes) -> str:
    if b"\x00" in raw:
        raise ImportFileError(
            "This is not a CSV file (it holds binary data). Save the sheet as CSV UTF-8 and upload it."
        )
    try:
        return raw.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"This file is not UTF-8 text (byte {exc.start + 1} is not). Save the sheet as “CSV UTF-8” and upload it."
        ) from None


def read_upload(upload, *, allowed: list[str], noun: str) -> ParsedFile:
    """Check an uploaded file against the size caps and the columns the user may change; raises ImportFileError."""
    max_bytes = settings.QWOTY_IMPORT_MAX_BYTES
    if upload.size > max_bytes:
        raise ImportFileError(
            f"This file is {_size(upload.size)}; an import takes at most {_size(max_bytes)}. Split it."
        )
    text = decode(upload.read())
    return parse(text, allowed=allowed, noun=noun)


def parse(text: str, *, allowed: list[str], noun: str) -> ParsedFile:
    if not text.strip():
        raise ImportFileError("This file is empty. Download the template, fill it in and upload it.")
    first_line = text.split("\n", 1)[0]
    if "\t" in first_line and "," not in first_line and ";" not in first_line:
        raise ImportFileError(
            "This file's columns are separated by tabs: save the sheet as CSV (commas) and upload it."
        )
    # Spreadsheets set to a comma as the decimal separator save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        header = [name.strip() for name in next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])]
        row_count = sum(1 for _ in rows(text, delimiter))
    except csv.Error as exc:
        raise ImportFileError(f"This file is not valid CSV ({exc}).") from None
    columns = _columns(header, allowed=allowed, noun=noun)
    max_rows = settings.QWOTY_IMPORT_MAX_ROWS
    if row_count > max_rows:
        raise ImportFileError(f"This file has {row_count:,} rows; an import takes at most {max_rows:,}. Split it.")
    if not row_count:
        raise ImportFileError("This file has a header but no rows.")
    return ParsedFile(text=text, delimiter=delimiter, header=header, columns=columns, row_count=row_count)


def _columns(header: list[str], *, allowed: list[str], noun: str) -> list[str]:
    names = [name.lower() for name in header]
    if ID_COLUMN not in names:
        raise ImportFileError(
            f"The first line must name the columns, one of them “{ID_COLUMN}” (each {noun}'s id, as in the template)."
        )
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ImportFileError(f"These columns appear twice: {', '.join(duplicated)}.")
    columns = [name for name in names if name not in (ID_COLUMN, VERSION_COLUMN, ERROR_COLUMN)]
    unknown = [header[names.index(name)] for name in columns if name not in allowed]
    if unknown:
        raise ImportFileError(
            f"Unknown or not yours to change: {', '.join(unknown)}. The columns you may import are: "
            f"{ID_COLUMN}, {VERSION_COLUMN}, {', '.join(allowed)}."
        )
    if not columns:
        raise ImportFileError(f"Nothing to change: add at least one of these columns: {', '.join(allowed)}.")
    return columns


def header(text: str, delimiter: str) -> list[str]:
    """The column names, lower-cased, as the preview matches them."""
    return [name.strip().lower() for name in next(csv.reader(io.StringIO(text), delimiter=delimiter), [])]


def rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) for each row after the header; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    next(reader, None)
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield reader.line_num, cells


def unescape(cell: str) -> str:
    """A cell as typed: our CSV downloads put a quote before a leading formula character (“'+33…”), and before a
    value that starts with quotes and then one (`csv_export.spreadsheet_cell`); taken off here."""
    cell = cell.strip()
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_PREFIXES):
        return cell[1:]
    return cell


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"
