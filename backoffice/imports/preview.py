"""The per-row preview: each row checked by the entity's own edit form and compared with the record as saved."""

import copy
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.sync import mirror as mirrors
from backoffice.sync.models import SyncStatus

from . import parsing
from .entities import ERROR_COLUMN, ID_COLUMN, VERSION_COLUMN, Importable, form_value
from .models import ImportJob, ImportRow, RowStatus

CHUNK = 500


def preview_rows(job: ImportJob, importable: Importable) -> None:
    """Check every row of the job's file, `CHUNK` rows per transaction, each chunk counted in `previewed_rows`."""
    header = parsing.header(job.content, job.delimiter)
    form_class = importable.form_class(job.created_by)
    seen: dict[str, int] = {}
    chunk: list[tuple[int, list[str]]] = []
    for line, cells in parsing.rows(job.content, job.delimiter):
        chunk.append((line, cells))
        if len(chunk) == CHUNK:
            _preview_chunk(job, importable, form_class, header, chunk, seen)
            chunk = []
    if chunk:
        _preview_chunk(job, importable, form_class, header, chunk, seen)


@transaction.atomic
def _preview_chunk(job, importable, form_class, header, chunk, seen) -> None:
    id_at = header.index(ID_COLUMN)
    ids = {_uuid(cells[id_at]) for _, cells in chunk if len(cells) > id_at} - {None}
    records = importable.records().in_bulk(ids)
    rows = []
    for line, cells in chunk:
        record_id = cells[id_at].strip() if len(cells) > id_at else ""
        # Whatever was written, cut to the column's size (PostgreSQL refuses longer); the errors file has it whole.
        row = ImportRow(job=job, line=line, cells=cells, record_id=record_id[: ImportRow.record_id.field.max_length])
        _check_row(row, header, records, importable, form_class, seen)
        rows.append(row)
    ImportRow.objects.bulk_create(rows)
    job.previewed_rows += len(chunk)
    job.save(update_fields=["previewed_rows", "updated_at"])


def _check_row(row: ImportRow, header, records, importable: Importable, form_class, seen: dict[str, int]) -> None:
    noun = importable.kind.singular
    if len(row.cells) != len(header):
        return _error(row, f"This row has {len(row.cells)} cells where the header has {len(header)}.")
    pk = _uuid(row.record_id)
    if pk is None:
        return _error(row, f"“{row.record_id}” is not a {noun} id." if row.record_id else f"The {noun} id is missing.")
    if str(pk) in seen:
        return _error(row, f"This {noun} is already changed on line {seen[str(pk)]}; one row per {noun}.")
    seen[str(pk)] = row.line
    record = records.get(pk)
    if record is None:
        return _error(row, f"No {noun} has the id {pk}.")
    row.version = record.version
    if record.sync_status == SyncStatus.CONFLICT:
        return _error(row, f"This {noun} is in conflict with Qwoty: settle it on its page first.")
    cells = {name: parsing.unescape(cell) for name, cell in zip(header, row.cells, strict=True)}
    given = {
        name: text
        for name, text in cells.items()
        if name not in (ID_COLUMN, VERSION_COLUMN, ERROR_COLUMN) and text  # a blank cell leaves the field as it is
    }
    new_values, errors = _validated(record, form_class, given)
    if not errors and importable.edit_errors:
        errors = importable.edit_errors(record, new_values)
    if errors:
        return _error(row, *[f"{name}: {message}" for name, messages in errors.items() for message in messages])
    mirror = mirrors.for_model(record)
    row.changes = {
        name: [mirror.value(record, name), mirrors.to_json(value)]
        for name, value in new_values.items()
        if mirror.value(record, name) != mirrors.to_json(value)
    }
    downloaded = cells.get(VERSION_COLUMN, "")
    if downloaded and not downloaded.isdecimal():  # what int() reads ("²" is a digit, not a number)
        return _error(row, f"version: “{downloaded[:20]}” is not a version number (blank it to skip the check).")
    if row.changes and downloaded and int(downloaded) != record.version:
        return _error(
            row,
            f"This {noun} was changed since the template was downloaded (version {downloaded}, now {record.version}): "
            "download the template again, or blank its version to change it anyway.",
        )
    row.status = RowStatus.CHANGE if row.changes else RowStatus.UNCHANGED
    return None


def _validated(record, form_class, given: dict) -> tuple[dict, dict[str, list[str]]]:
    """The given cells through the edit form (the same checks as a save there), for the given fields only."""
    data, errors = {"version": record.version}, {}
    for name, text in given.items():
        try:
            data[name] = form_value(form_class.base_fields[name], text)
        except ValidationError as exc:
            errors[name] = exc.messages
    bound = form_class(data=data, instance=copy.copy(record))  # a ModelForm writes cleaned values onto its instance
    bound.is_valid()
    for name in given:
        if name in bound.errors and name not in errors:
            errors[name] = bound.errors[name]
    return {name: bound.cleaned_data[name] for name in given if name not in errors}, errors


def _error(row: ImportRow, *messages: str) -> None:
    row.status = RowStatus.ERROR
    row.errors = list(messages)


def _uuid(text: str):
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None
