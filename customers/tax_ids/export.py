"""The tax-ID list as CSV for audits: which columns, and the rows streamed from the database."""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from backoffice.ui.csv_export import csv_download
from customers.models import TaxId

EXPORT_COLUMNS = (
    ("customer id", "customer_id"),
    ("customer name", "customer__name"),
    ("tax", "tax"),
    ("tax_value", "tax_value"),
    ("normalised", "normalised"),
    ("country", "country"),
    ("validation status", "validation_status"),
    ("reason", "validation_reason"),
    ("review status", "review_status"),
    ("reviewed by", "reviewed_by__username"),
    ("reviewed at", "reviewed_at"),
    ("note", "review_note"),
)


def taxid_export_rows(queryset: QuerySet[TaxId], *, chunk_size: int = 2000) -> Iterator[tuple]:
    """The export's rows, streamed from the database in chunks (no model instances, no full list in memory)."""
    fields = [name for _, name in EXPORT_COLUMNS]
    return queryset.values_list(*fields).iterator(chunk_size=chunk_size)


def taxid_csv(queryset: QuerySet[TaxId]) -> StreamingHttpResponse:
    """The download: streamed, so 100,000 rows never sit in memory."""
    header = [label for label, _ in EXPORT_COLUMNS]
    return csv_download(name="tax-ids", header=header, rows=taxid_export_rows(queryset))
