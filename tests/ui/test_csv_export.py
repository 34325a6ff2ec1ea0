"""CSV downloads never hand a spreadsheet a formula (CSV injection), whatever upstream or staff typed."""

import csv
import io
from datetime import UTC, datetime

import pytest

from backoffice.imports.parsing import unescape
from backoffice.ui.csv_export import csv_download, spreadsheet_cell


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://evil")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"],
)
def test_a_cell_starting_with_a_formula_character_is_quoted(hostile):
    assert spreadsheet_cell(hostile) == "'" + hostile


@pytest.mark.parametrize("harmless", ["ACME SA", "FR12345678901", "a=b", "x-y", "mail@example.com", ""])
def test_other_cells_are_kept_as_they_are(harmless):
    assert spreadsheet_cell(harmless) == harmless


@pytest.mark.parametrize(
    "value", ["'-' separated", "''=x", "'", "'plain", "-2+3", "+33 1 23 45 67 89", "O'Brien", "'@home", "ACME SA"]
)
def test_an_import_reads_back_every_value_a_download_wrote(value):
    assert unescape(spreadsheet_cell(value)) == value


def test_none_is_empty_and_dates_are_iso():
    assert spreadsheet_cell(None) == ""
    assert spreadsheet_cell(datetime(2026, 12, 2, 21, 5, 7, 123, tzinfo=UTC)) == "2026-12-02T21:05:07+00:00"


def test_the_download_streams_every_row_neutralised_after_a_bom_and_header():
    response = csv_download(name="push-log", header=["name", "note"], rows=[("=cmd()", "ok"), ("Ana", "@x")])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="push-log-')
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(body.removeprefix("\ufeff")))) == [
        ["name", "note"],
        ["'=cmd()", "ok"],
        ["Ana", "'@x"],
    ]
