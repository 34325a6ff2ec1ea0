"""Reads on contacts: the searchable list, with each contact's customer."""

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import Contains

from backoffice.db.folding import folded_contains
from backoffice.ui.bulk import BulkPreview, preview
from backoffice.ui.listing import (
    compact,
    compacted,
    folded_contains_any,
    id_match,
    matching_all,
    matching_any,
    ordering,
)
from customers.models import Customer

from . import search_index
from .models import Contact

# What a list row shows (a SQLite row costs a date parse per datetime column read).
LIST_COLUMNS = ("first_name", "last_name", "email", "phone", "role", "customer", "sync_status", "sync_error")
SORT_COLUMNS = {
    "name": ("last_name", "first_name"),
    "email": ("email",),
    "customer": ("customer__name",),
    "status": ("sync_status", "last_name"),
    "updated": ("updated_at",),
}
PHONE_MIN_DIGITS = 4


def _phone_digits(term: str) -> str | None:
    """The term as a phone fragment ("06 12 34" → "612 34" without separators), if it looks like one."""
    digits = compact(term).lstrip("+")
    if len(digits) >= PHONE_MIN_DIGITS and digits.isdigit():
        # A national number's leading 0 is not in its international form (0612… vs +33 612…).
        return digits.lstrip("0")
    return None


def _contact_matches(term: str) -> Q:
    """One search word: a name, email, phone or external id contains it, or the customer's name does (whatever the
    case and accents: contacts/search_index.py), or the phone in any format, or it is the id."""
    conditions = [folded_contains_any(term, search_index.FOLDED.columns), folded_contains("customer__name", term)]
    digits = _phone_digits(term)
    if digits:
        conditions.append(Q(Contains(compacted("phone"), digits)))
    return matching_any(Contact, *conditions) | id_match(term)


def role_filter(role: str) -> Q:
    # `role` is a JSON list; the quoted value matches one whole role on SQLite and PostgreSQL alike
    # (the `contains` lookup is not supported on SQLite).
    return Q(role__icontains=f'"{role}"')


def contact_list(
    *, q: str = "", role: str = "", customer: str = "", sync_status: str = "", sort: str = "name"
) -> QuerySet[Contact]:
    """Contacts matching every word of `q` and the filters.

    A word matches a name, email, external id, the customer's name (whatever the case and accents), or the phone
    in any format.
    """
    # The customer's name, not the customer: a row shows nothing else of it. A subquery, not a join, so the
    # query for the page's ids (which drops this column) does not look up each contact's customer.
    customer_name = Customer.objects.filter(pk=OuterRef("customer_id")).values("name")
    contacts = Contact.objects.only(*LIST_COLUMNS).annotate(customer_name=Subquery(customer_name))
    if q:
        contacts = contacts.filter(matching_all(q, _contact_matches))
    if role:
        contacts = contacts.filter(role_filter(role))
    if customer:
        contacts = contacts.filter(customer_id=customer)
    if sync_status:
        contacts = contacts.filter(sync_status=sync_status)
    return contacts.order_by(*ordering(sort, SORT_COLUMNS))


def contact_detail(pk) -> Contact:
    return Contact.objects.select_related("customer").get(pk=pk)


def contact_bulk_preview(contact_ids, *, role: str, present: bool) -> BulkPreview:
    contacts = Contact.objects.filter(pk__in=contact_ids).only("pk", "role", "sync_status")
    return preview(contacts, lambda contact: (role in (contact.role or [])) != present)
