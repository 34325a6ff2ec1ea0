"""Reads on customers: the searchable list and one customer with what its page shows."""

import uuid
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat

from backoffice.ui.listing import (
    JoinedLines,
    compact,
    compacted,
    folded_contains_any,
    id_match,
    in_subquery,
    matching_all,
    ordering,
)

from . import search_index
from .models import Customer, TaxId

if TYPE_CHECKING:
    from contacts.models import Contact

SORT_COLUMNS = {
    "name": ("name",),
    "type": ("type", "name"),
    "status": ("sync_status", "name"),
    "updated": ("updated_at",),
}
NO_SEGMENT = "none"
# What a list row shows (a SQLite row costs a date parse per datetime column read).
LIST_COLUMNS = ("name", "type", "id_crm", "sync_status", "sync_error", "updated_at")


def _customer_matches(term: str) -> Q:
    """One search word: name or external ids contain it (whatever the case and accents), a tax ID contains it
    (separators ignored), or it is the id."""
    if search_index.covers(term):
        return Q(pk__in=RawSQL(*search_index.matching_sql(term))) | id_match(term)
    named = folded_contains_any(term, search_index.FOLDED.columns)
    # Not matching_any: the scan in name order reads the list's index alone, with no row (see make bench-ui).
    return named | in_subquery("pk", _with_tax_value(compact(term) or term)) | id_match(term)


def _with_tax_value(tax_value: str):
    if search_index.available(tax_value):
        return RawSQL(*search_index.tax_matching_sql(tax_value))
    # Uncorrelated, so the database reads the tax IDs once, not once per customer. Both sides compact:
    # "76.086.428-5" is found as typed with or without its dots.
    tax_ids = TaxId.objects.annotate(compact_value=compacted("tax_value"))
    return tax_ids.filter(compact_value__icontains=tax_value).values("customer_id")


def _contact_count():
    # A correlated count, computed only for the rows of the page (no GROUP BY over the whole table).
    # The contacts app hangs off customers, not the reverse: its model is reached through the relation.
    contacts = Customer.contacts.rel.related_model
    counts = contacts.objects.filter(customer=OuterRef("pk")).order_by().values("customer").annotate(n=Count("pk"))
    return Coalesce(Subquery(counts.values("n"), output_field=IntegerField()), 0)


def _tax_id_lines():
    # "tax value" a line, in the row query: no extra query per page, nor model instances per tax ID.
    tax_ids = TaxId.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
    lines = tax_ids.annotate(text=JoinedLines(Concat("tax", Value(" "), "tax_value"))).values("text")
    return Subquery(lines, output_field=CharField())


def customer_list(
    *, q: str = "", type: str = "", segment: str = "", sync_status: str = "", sort: str = "name"
) -> QuerySet[Customer]:
    """Customers matching every word of `q` and the filters, with their tax IDs (as lines) and contact count."""
    customers = Customer.objects.all()
    if q:
        customers = customers.filter(matching_all(q, _customer_matches))
    if type:
        customers = customers.filter(type=type)
    if segment == NO_SEGMENT:
        customers = customers.filter(segment_id__isnull=True)
    elif segment:
        customers = customers.filter(segment_id=segment)
    if sync_status:
        customers = customers.filter(sync_status=sync_status)
    return (
        customers.only(*LIST_COLUMNS)
        .annotate(contact_count=_contact_count(), tax_id_lines=_tax_id_lines())
        .order_by(*ordering(sort, SORT_COLUMNS))
    )


# From one segment to the next through the segment index: a lookup per segment, where DISTINCT reads the index
# entry of every customer in one (667,000 of 1,000,000 customers: 60 ms on PostgreSQL, for a dozen segments).
_SEGMENTS = """WITH RECURSIVE segments (segment_id) AS (
    SELECT (SELECT segment_id FROM customers_customer WHERE segment_id IS NOT NULL ORDER BY segment_id LIMIT 1)
    UNION ALL
    SELECT (
        SELECT customer.segment_id FROM customers_customer AS customer
        WHERE customer.segment_id > segments.segment_id ORDER BY customer.segment_id LIMIT 1
    ) FROM segments WHERE segments.segment_id IS NOT NULL
)
SELECT segment_id FROM segments WHERE segment_id IS NOT NULL"""


def customer_segments() -> list[uuid.UUID]:
    """The segments customers belong to, in order (Qwoty gives segments no name, only an id)."""
    to_python = Customer._meta.get_field("segment_id").to_python
    with connection.cursor() as cursor:
        cursor.execute(_SEGMENTS)
        return [to_python(segment) for (segment,) in cursor.fetchall()]


SEGMENT_CHOICES_SECONDS = 60


def customer_segment_choices() -> list[uuid.UUID]:
    """The segments for the list's filter: cached a minute, as segments come and go only with a pull."""
    return cache.get_or_set("customer-segment-choices", customer_segments, SEGMENT_CHOICES_SECONDS)


CONTACTS_SHOWN = 50


def customer_detail(pk) -> Customer:
    """One customer with its tax IDs; raises Customer.DoesNotExist."""
    return Customer.objects.prefetch_related("tax_ids").get(pk=pk)


def customer_or_none(pk) -> Customer | None:
    return Customer.objects.filter(pk=pk).first()


def customer_contacts(customer: Customer, *, limit: int = CONTACTS_SHOWN) -> list["Contact"]:
    """The first contacts of a customer, for its page (the contact list has them all)."""
    return list(customer.contacts.all()[:limit])


def customer_contact_count(customer: Customer) -> int:
    return customer.contacts.count()
