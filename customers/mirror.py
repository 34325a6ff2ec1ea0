from collections import defaultdict

from backoffice.sync import statements
from backoffice.sync.mirror import Mirror
from customers.tax_ids.countries import customer_country
from customers.tax_ids.services import CHECK_FIELDS, apply_check, reset_review

from .models import Customer, TaxId, TaxIdReview


class CustomerMirror(Mirror):
    resource = "customers"
    model = Customer
    fields = ("name", "type", "segment_id", "logo", "tax_ids", "id_crm", "id_erp", "id_accounting")
    readonly = ("workspace_id", "address_ids", "created_at", "updated_at")
    related = ("tax_ids",)
    web_urls = ("logo",)

    def value(self, record, name: str):
        if name == "tax_ids":
            if "tax_ids" in getattr(record, "_prefetched_objects_cache", ()):
                return [tax_id.as_upstream() for tax_id in record.tax_ids.all()]
            # What `record.tax_ids.all()` reads, without building its query each time (the push reads it twice).
            return [tax_id.as_upstream() for tax_id in statements.select(TaxId, {"customer": record.pk})]
        return super().value(record, name)

    def upstream_values(self, data):
        values = super().upstream_values(data)
        values["tax_ids"] = [
            {"tax": item.get("tax"), "tax_value": item.get("tax_value")} for item in values["tax_ids"] or []
        ]
        return values

    def after_save(self, record, data, names):
        if "tax_ids" in names:
            set_tax_ids(record, self.upstream_values(data)["tax_ids"])


def set_tax_ids(customer: Customer, tax_ids: list[dict]) -> None:
    """Make the customer's TaxId rows equal `tax_ids`, in order, and keep each row's validation up to date.

    A row whose (tax, tax_value) is unchanged is kept, with its review. Where the value at a place
    in the list changed, the same row takes the new value and its review starts again (a "reset"
    audit row records it); other new values get new, unreviewed rows; the rest are deleted (their
    review history stays).
    """
    rows = list(TaxId.objects.filter(customer=customer).order_by("position", "id"))
    unmatched: dict[tuple[str, str], list[TaxId]] = defaultdict(list)
    for row in rows:
        unmatched[(row.tax, row.tax_value)].append(row)
    placed = [_take(unmatched.get((item["tax"], item["tax_value"]))) for item in tax_ids]
    leftovers = [row for group in unmatched.values() for row in group]
    by_position: dict[int, TaxId] = {}
    for row in leftovers:
        by_position.setdefault(row.position, row)

    country = customer_country([(item["tax"], item["tax_value"]) for item in tax_ids])
    update, create, resets = [], [], []
    for position, (item, row) in enumerate(zip(tax_ids, placed, strict=True)):
        if row is None:
            row = by_position.pop(position, None)
            if row is None:
                row = TaxId(customer=customer, tax=item["tax"], tax_value=item["tax_value"], position=position)
                apply_check(row, country=country)
                create.append(row)
                continue
            leftovers.remove(row)
            was = row.tax_value if row.tax == item["tax"] else f"{row.tax} {row.tax_value}"
            row.tax, row.tax_value, row.position = item["tax"], item["tax_value"], position
            apply_check(row, country=country)
            audit = reset_review(row, was=was)
            if audit:
                resets.append(audit)
            update.append(row)
        elif apply_check(row, country=country) | (row.position != position):
            row.position = position
            update.append(row)
    if leftovers:
        TaxId.objects.filter(pk__in=[row.pk for row in leftovers]).delete()
    if update:
        TaxId.objects.bulk_update(update, UPDATED_FIELDS)
    if create:
        TaxId.objects.bulk_create(create)
    if resets:
        TaxIdReview.objects.bulk_create(resets)


UPDATED_FIELDS = (
    "tax",
    "tax_value",
    "position",
    *CHECK_FIELDS,
    "review_status",
    "reviewed_by",
    "reviewed_at",
    "review_note",
)


def _take(rows: list[TaxId] | None) -> TaxId | None:
    return rows.pop(0) if rows else None
