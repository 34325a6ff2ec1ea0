"""Reads on customers: the searchable list and one customer with what its page shows."""

import uuid

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from backoffice.listing import compact, icontains_any, id_match, matching_all, ordering
from contacts.models import Contact

from .models import Customer, TaxId

SORT_COLUMNS = {
    "name": ("name",),
    "type": ("type", "name"),
    "status": ("sync_status", "name"),
    "updated": ("updated_at",),
}
NO_SEGMENT = "none"


def _customer_matches(term: str) -> Q:
    """One search word: name or external ids contain it, a tax ID contains it (spaces ignored), or it is the id."""
    condition = icontains_any(term, ("name", "id_crm", "id_erp", "id_accounting"))
    tax_value = compact(term) or term
    condition |= Q(Exists(TaxId.objects.filter(customer=OuterRef("pk"), tax_value__icontains=tax_value)))
    return condition | id_match(term)


def _contact_count():
    # A correlated count, computed only for the rows of the page (no GROUP BY over the whole table).
    counts = Contact.objects.filter(customer=OuterRef("pk")).order_by().values("customer").annotate(n=Count("pk"))
    return Coalesce(Subquery(counts.values("n"), output_field=IntegerField()), 0)


def customer_list(
    *, q: str = "", type: str = "", segment: str = "", sync_status: str = "", sort: str = "name"
) -> QuerySet[Customer]:
    """Customers matching every word of `q` and the filters, with their tax IDs and contact count."""
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
        customers.annotate(contact_count=_contact_count())
        .prefetch_related("tax_ids")
        .order_by(*ordering(sort, SORT_COLUMNS))
    )


def customer_segments() -> list[uuid.UUID]:
    """The segments customers belong to (Qwoty gives segments no name, only an id)."""
    return list(
        Customer.objects.exclude(segment_id=None).order_by("segment_id").values_list("segment_id", flat=True).distinct()
    )


CONTACTS_SHOWN = 50


def customer_detail(pk) -> Customer:
    """One customer with its tax IDs; raises Customer.DoesNotExist."""
    return Customer.objects.prefetch_related("tax_ids").get(pk=pk)


def customer_or_none(pk) -> Customer | None:
    return Customer.objects.filter(pk=pk).first()


def customer_contacts(customer: Customer, *, limit: int = CONTACTS_SHOWN) -> list[Contact]:
    """The first contacts of a customer, for its page (the contact list has them all)."""
    return list(customer.contacts.all()[:limit])


def customer_contact_count(customer: Customer) -> int:
    return customer.contacts.count()
