"""Reads for the tax-ID review: the filtered worklist, one customer's tax IDs, the CSV export rows.

Validation is read from the columns stored on each TaxId, so filtering and sorting happen in SQL;
only the rows of the page shown are looked at in Python (for the cross-checks between a customer's IDs).
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL

from backoffice.db.folding import fold, folded_contains
from backoffice.ui.listing import CappedCount, capped_count, ordering, search_terms
from customers import search_index
from customers.models import Customer, TaxId, TaxIdReview
from customers.tax_ids.services import KNOWN_TAX_TYPES
from customers.tax_ids.validation import CHECKED_COUNTRIES, compact, cross_check, validate_tax_id

Review = TaxId.Review
Validation = TaxId.Validation

SORT_COLUMNS = {
    "failing": ("validation_status",),  # ordered by failing_first(): failing, then awaiting review
    "customer": ("customer__name", "customer_id", "position"),
    "type": ("tax", "tax_value"),
    "value": ("tax_value",),
    "country": ("country", "tax_value"),
    "reviewed": ("reviewed_at",),
}
DEFAULT_SORT = "failing"
CUSTOMER_COLUMNS_NOT_SHOWN = ("customer__last_synced", "customer__sync_conflict", "customer__address_ids")


def failing_first(*, descending: bool = False) -> list:
    """Invalid, then not checkable, then valid (alphabetical, as it happens); awaiting review before reviewed.

    The same columns as the `taxid_worklist` index, so page 1 of the default list reads the index.
    """
    if descending:
        return [F("validation_status").desc(), F("review_status").asc(), F("id").desc()]
    return [F("validation_status").asc(), F("review_status").desc(), F("id").asc()]


# A search word with this many digits is (part of) a number: only the numbers are searched.
NUMBER_DIGITS = 3


def _search(query: str) -> Q:
    """Every word of `query` must match: a customer id, part of a number in any spelling, or part of the name
    (whatever the case and accents).

    A number is matched on `normalised` alone (compact, upper case, for every type), read from the
    worklist index. The other words are looked up together in the customers' names, once (through
    their trigram index on SQLite), then through TaxId's customer index. No join per row either way.
    """
    condition, words = Q(), []
    for term in search_terms(query):
        try:
            condition &= Q(customer_id=uuid.UUID(term))  # a pasted customer id
            continue
        except ValueError:
            pass
        number = compact(term)
        if sum(character.isdigit() for character in number) >= NUMBER_DIGITS:
            condition &= Q(normalised__contains=number)
        else:
            words.append(term)
    if words:
        condition &= Q(customer_id__in=_customers_named(words))
    return condition


# Up to this many customers found by name are passed as a list, so the page's two queries (ids and
# rows) do not each scan the customers again; words in more names than that are left to a subquery.
NAMED_CUSTOMERS_LISTED = 2000


def _customers_named(words: list[str]):
    """The customers whose name contains every one of `words`, whatever the case and accents."""
    named = Customer.objects.order_by()
    indexed = [word for word in words if search_index.available(fold(word))]
    if indexed:
        # The names' trigram index: a scan would read every customer's name.
        named = named.filter(pk__in=RawSQL(*search_index.names_matching_sql(indexed)))
    for word in words:
        if word not in indexed:
            named = named.filter(folded_contains("name", word))
    named = named.values_list("pk", flat=True)
    found = list(named[: NAMED_CUSTOMERS_LISTED + 1])
    return found if len(found) <= NAMED_CUSTOMERS_LISTED else named


def taxid_list(
    *,
    q: str = "",
    review: str = "",
    validation: str = "",
    tax: str = "",
    country: str = "",
    fixable: bool = False,
    customer: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[TaxId]:
    """Tax IDs matching every word of `q` and the filters; failing and unreviewed ones first by default."""
    tax_ids = TaxId.objects.all()
    if q:
        tax_ids = tax_ids.filter(_search(q))
    if review:
        tax_ids = tax_ids.filter(review_status=review)
    if validation:
        tax_ids = tax_ids.filter(validation_status=validation)
    if tax:
        tax_ids = tax_ids.filter(tax=tax)
    if country:
        tax_ids = tax_ids.filter(country=country)
    if fixable:
        tax_ids = tax_ids.exclude(suggestion="")
    if customer:
        tax_ids = tax_ids.filter(customer_id=customer)
    key = sort.removeprefix("-")
    order = failing_first(descending=sort.startswith("-")) if key == DEFAULT_SORT else ordering(sort, SORT_COLUMNS)
    # The customer's JSON columns are not shown: leaving them out keeps the sort of a search small.
    return tax_ids.select_related("customer", "reviewed_by").defer(*CUSTOMER_COLUMNS_NOT_SHOWN).order_by(*order)


def taxid_detail(pk) -> TaxId:
    """One tax ID with its customer and reviewer; raises TaxId.DoesNotExist."""
    return TaxId.objects.select_related("customer", "reviewed_by").get(pk=pk)


def taxid_as_now(tax_id: TaxId) -> TaxId:
    """The tax ID as stored now, or as given once deleted (its row still shows what was decided)."""
    return taxid_detail(tax_id.pk) if TaxId.objects.filter(pk=tax_id.pk).exists() else tax_id


def customer_or_none(pk) -> Customer | None:
    return Customer.objects.filter(pk=pk).first()


def customer_as_now(customer: Customer) -> Customer:
    """The customer re-read after an edit of its tax IDs (its version and sync state have moved on)."""
    return Customer.objects.get(pk=customer.pk)


def filter_choices(*, tax: str = "") -> dict:
    """The type and country filters' choices, without reading 100,000 rows: the types and countries we check.

    Other types are found with the "Not checkable" validation filter; one chosen by URL is kept.
    """
    tax_types = list(KNOWN_TAX_TYPES) if not tax or tax in KNOWN_TAX_TYPES else [*KNOWN_TAX_TYPES, tax]
    return {"tax_types": tax_types, "countries": CHECKED_COUNTRIES}


def with_cross_checks(rows: list[TaxId]) -> list[TaxId]:
    """Attach to each row its printed form (`formatted`) and its inconsistencies with its customer's other tax IDs
    (`cross_check`).

    One query for the customers of the page, whatever its size.
    """
    pairs: dict[uuid.UUID, list[tuple[str, str]]] = defaultdict(list)
    customer_ids = {row.customer_id for row in rows}
    for customer_id, tax, value in (
        TaxId.objects.filter(customer_id__in=customer_ids)
        .order_by("customer_id", "position", "id")
        .values_list("customer_id", "tax", "tax_value")
    ):
        pairs[customer_id].append((tax, value))
    problems = {customer_id: cross_check(items) for customer_id, items in pairs.items()}
    for row in rows:
        row.formatted = validate_tax_id(row.tax, row.tax_value).formatted
        row.cross_check = [
            message for message in problems.get(row.customer_id, []) if row.normalised and row.normalised in message
        ]
    return rows


@dataclass(frozen=True)
class TaxIdPanel:
    """What a customer's page shows of its tax IDs."""

    customer: Customer
    tax_ids: list[TaxId]
    problems: list[str]
    reviews: list[TaxIdReview] = field(default_factory=list)

    @property
    def awaiting_review(self) -> int:
        return sum(1 for tax_id in self.tax_ids if tax_id.review_status == Review.UNREVIEWED)

    @property
    def failing(self) -> int:
        return sum(1 for tax_id in self.tax_ids if tax_id.validation_status == Validation.INVALID)


REVIEW_COUNT_CAP = 10_000


def review_counts() -> dict[str, CappedCount]:
    """For the dashboard: tax IDs awaiting review, and how many of those fail validation, each counted up to
    REVIEW_COUNT_CAP ("10,000+"): until reviewed, every tax ID awaits review, and counting 333,000 took 35 ms."""
    awaiting = TaxId.objects.filter(review_status=Review.UNREVIEWED)
    return {
        "awaiting": capped_count(awaiting, REVIEW_COUNT_CAP),
        "failing": capped_count(awaiting.filter(validation_status=Validation.INVALID), REVIEW_COUNT_CAP),
    }


REVIEWS_SHOWN = 20


def customer_tax_id_panel(customer: Customer) -> TaxIdPanel:
    """A customer's tax IDs in order with their validation and review, cross-checks, and the latest decisions."""
    tax_ids = list(TaxId.objects.filter(customer=customer).select_related("reviewed_by").order_by("position", "id"))
    for tax_id in tax_ids:
        tax_id.customer = customer
    problems = cross_check([(tax_id.tax, tax_id.tax_value) for tax_id in tax_ids])
    for tax_id in tax_ids:
        tax_id.formatted = validate_tax_id(tax_id.tax, tax_id.tax_value).formatted
        tax_id.cross_check = []  # shown once for the customer, above the table
    reviews = list(TaxIdReview.objects.filter(customer_id=customer.pk).select_related("user")[:REVIEWS_SHOWN])
    return TaxIdPanel(
        customer=customer,
        tax_ids=tax_ids,
        problems=problems,
        reviews=reviews,
    )
