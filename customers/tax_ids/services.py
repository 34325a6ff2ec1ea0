"""Managers' work on tax IDs: validation kept on each row, review decisions, and edits of the list.

Every edit of a customer's tax IDs goes through `customer_update(data={"tax_ids": [...]})`, so it is
recorded in the history and pushed to Qwoty as the whole ordered list; review decisions are local and
never pushed. A value that validates as invalid is refused before anything is saved; values that came
invalid from Qwoty stay as they are, flagged, until a manager fixes or rejects them.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from customers.models import Customer, TaxId, TaxIdReview
from customers.services import customer_update
from customers.tax_ids.countries import customer_country
from customers.tax_ids.validation import compact, validate_tax_id

Review = TaxId.Review
Validation = TaxId.Validation

# Tax types offered in the forms; any other text is accepted too (and shown as "Not checkable").
KNOWN_TAX_TYPES = ("VAT", "SIREN", "SIRET", "RUT", "CUIT", "CNPJ", "CPF", "NIT", "RFC", "RUC", "EIN")

CHECK_FIELDS = ("validation_status", "validation_reason", "country", "normalised", "suggestion")

# Who is editing a customer's tax IDs, for the "reset" rows written when a reviewed value changes.
_editor: ContextVar = ContextVar("tax_id_editor", default=None)


@contextmanager
def edited_by(user) -> Iterator[None]:
    token = _editor.set(user if user is not None and user.is_authenticated else None)
    try:
        yield
    finally:
        _editor.reset(token)


def current_editor():
    return _editor.get()


# ---- validation kept on the row ----------------------------------------------------------------


def check_fields(tax: str, tax_value: str, *, country: str | None = None) -> dict:
    """The validation columns of a TaxId for (tax, tax_value), with `country` the customer's country.

    The verdict is on the value as stored (a VAT without its prefix is invalid: nobody downstream can
    check it); the customer's country only serves to suggest the completed form. `normalised` is
    stdnum's normal form, or for a type we cannot check the compact form: the review list searches it.
    """
    check = validate_tax_id(tax, tax_value)
    suggestion = check.suggestion
    found_country = check.country
    if check.status == Validation.INVALID and country:
        completed = validate_tax_id(tax, tax_value, country=country)
        if completed.status == Validation.VALID and completed.normalised != tax_value:
            suggestion, found_country = completed.normalised, completed.country
    return {
        "validation_status": check.status,
        "validation_reason": (check.reason or "")[:100],
        "country": found_country or "",
        "normalised": (check.normalised or compact(tax_value))[:64],
        "suggestion": (suggestion or "")[:64],
    }


def apply_check(tax_id: TaxId, *, country: str | None) -> bool:
    """Set the row's validation columns; whether any changed (the caller saves)."""
    fields = check_fields(tax_id.tax, tax_id.tax_value, country=country)
    changed = any(getattr(tax_id, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(tax_id, name, value)
    return changed


def reset_review(tax_id: TaxId, *, was: str) -> TaxIdReview | None:
    """The row's value changed (`was` the old one): its review no longer holds.

    Returns the audit row to save when there was a review to reset (the caller saves both).
    """
    previous = tax_id.review_status
    tax_id.review_status = Review.UNREVIEWED
    tax_id.reviewed_by = None
    tax_id.reviewed_at = None
    tax_id.review_note = ""
    if previous == Review.UNREVIEWED:
        return None
    editor = current_editor()
    origin = "" if editor else " in Qwoty"
    return TaxIdReview(
        tax_id=tax_id,
        customer_id=tax_id.customer_id,
        tax=tax_id.tax,
        tax_value=tax_id.tax_value,
        action=TaxIdReview.Action.RESET,
        note=f"Value changed{origin} from {was} (was {Review(previous).label.lower()}).",
        user=editor,
    )


@transaction.atomic
def tax_ids_revalidate(*, queryset: QuerySet[TaxId] | None = None, batch_size: int = 2000) -> int:
    """Recompute the validation columns of `queryset` (every tax ID by default); returns how many changed.

    For existing rows after an upgrade of python-stdnum or of our rules (`manage.py validate_tax_ids`).
    """
    queryset = TaxId.objects.all() if queryset is None else queryset
    customer_ids = queryset.order_by().values_list("customer_id", flat=True).distinct()
    changed = 0
    pending: list[TaxId] = []
    for customer_id in customer_ids.iterator(chunk_size=batch_size):
        rows = list(TaxId.objects.filter(customer_id=customer_id).order_by("position", "id"))
        country = customer_country([(row.tax, row.tax_value) for row in rows])
        pending.extend(row for row in rows if apply_check(row, country=country))
        if len(pending) >= batch_size:
            changed += _save_checks(pending)
            pending = []
    return changed + _save_checks(pending)


def _save_checks(rows: list[TaxId]) -> int:
    TaxId.objects.bulk_update(rows, CHECK_FIELDS, batch_size=500)
    return len(rows)


# ---- review decisions (local, never pushed) ----------------------------------------------------


class TaxIdChanged(Exception):
    """The tax ID's value changed since the manager saw it: the decision would be on another value."""

    def __init__(self, tax_id: TaxId):
        super().__init__(f"This tax ID changed to {tax_id.tax} {tax_id.tax_value} meanwhile; check it again.")
        self.tax_id = tax_id


def _locked(tax_id: TaxId | int, expected_value: str | None) -> TaxId:
    pk = tax_id.pk if isinstance(tax_id, TaxId) else tax_id
    current = TaxId.objects.select_for_update().select_related("customer").get(pk=pk)
    if expected_value is not None and current.tax_value != expected_value:
        raise TaxIdChanged(current)
    return current


def _decide(tax_id: TaxId, *, user, action: str, note: str) -> TaxId:
    now = timezone.now()
    tax_id.review_status = action
    tax_id.reviewed_by = user
    tax_id.reviewed_at = now
    tax_id.review_note = note
    # update(), not save(): a review is local and must not mark the customer for a push.
    TaxId.objects.filter(pk=tax_id.pk).update(review_status=action, reviewed_by=user, reviewed_at=now, review_note=note)
    TaxIdReview.objects.create(
        tax_id=tax_id,
        customer_id=tax_id.customer_id,
        tax=tax_id.tax,
        tax_value=tax_id.tax_value,
        action=action,
        note=note,
        user=user,
        at=now,
    )
    return tax_id


@transaction.atomic
def tax_id_approve(*, tax_id: TaxId | int, user, note: str = "", expected_value: str | None = None) -> TaxId:
    """Mark a tax ID as checked and correct. Approving one that fails validation needs a note saying why.

    `expected_value` is the value the manager saw; raises TaxIdChanged if it is no longer the value.
    """
    current = _locked(tax_id, expected_value)
    note = note.strip()
    if current.validation_status == Validation.INVALID and not note:
        raise ValidationError({"note": f"It fails validation ({current.validation_reason}): say why you approve it."})
    return _decide(current, user=user, action=Review.APPROVED, note=note)


@transaction.atomic
def tax_id_reject(*, tax_id: TaxId | int, user, note: str, expected_value: str | None = None) -> TaxId:
    """Mark a tax ID as wrong for its customer; the note (required) says what is wrong."""
    current = _locked(tax_id, expected_value)
    note = note.strip()
    if not note:
        raise ValidationError({"note": "Say why you reject it: the note is required."})
    return _decide(current, user=user, action=Review.REJECTED, note=note)


def passing_awaiting_review(queryset: QuerySet[TaxId]) -> QuerySet[TaxId]:
    """Of `queryset`, the tax IDs that bulk approval would approve: valid and not yet reviewed.

    Rejected ones stay rejected: a manager's explicit decision is not overturned in bulk.
    """
    return queryset.filter(validation_status=Validation.VALID, review_status=Review.UNREVIEWED)


@transaction.atomic
def tax_ids_approve_passing(*, queryset: QuerySet[TaxId], user, batch_size: int = 1000) -> int:
    """Approve every tax ID of `queryset` that passes validation and awaits review; returns the count."""
    ids = list(passing_awaiting_review(queryset).order_by().values_list("pk", flat=True))
    now = timezone.now()
    note = "Approved in bulk: passes validation."
    approved = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        # Re-checked under the update, in case one changed since the ids were read.
        rows = list(
            TaxId.objects.select_for_update()
            .filter(pk__in=chunk, validation_status=Validation.VALID, review_status=Review.UNREVIEWED)
            .values_list("pk", "customer_id", "tax", "tax_value")
        )
        TaxId.objects.filter(pk__in=[row[0] for row in rows]).update(
            review_status=Review.APPROVED, reviewed_by=user, reviewed_at=now, review_note=note
        )
        TaxIdReview.objects.bulk_create(
            TaxIdReview(
                tax_id_id=pk,
                customer_id=customer_id,
                tax=tax,
                tax_value=tax_value,
                action=TaxIdReview.Action.APPROVED,
                note=note,
                user=user,
                at=now,
            )
            for pk, customer_id, tax, tax_value in rows
        )
        approved += len(rows)
    return approved


# ---- edits of the list (pushed to Qwoty) -------------------------------------------------------


@dataclass(frozen=True)
class CheckedValue:
    """A tax ID as a manager typed it, once accepted: the type and the value to store."""

    tax: str
    tax_value: str
    status: str


def clean_tax_type(tax: str) -> str:
    """A known type in its usual spelling ("vat" → "VAT"); any other type as typed, trimmed."""
    tax = " ".join(tax.split())
    known = {name.lower(): name for name in KNOWN_TAX_TYPES}
    return known.get(tax.lower(), tax)


def check_new_value(*, customer: Customer, tax: str, tax_value: str, exclude: TaxId | None = None) -> CheckedValue:
    """Accept a typed tax ID, or raise ValidationError by field (`tax`, `tax_value`).

    An invalid value is refused, with the reason and, when the customer's other tax IDs tell the
    country, the completed form to use instead. A valid value is stored in its normal form; a type
    we cannot check is kept as typed. The same number twice on one customer is refused.
    """
    tax = clean_tax_type(tax)
    tax_value = " ".join(tax_value.split())
    if not tax:
        raise ValidationError({"tax": "Enter the tax ID's type, such as VAT or SIREN."})
    if not tax_value:
        raise ValidationError({"tax_value": "Enter the number."})
    others = [row for row in customer.tax_ids.all() if exclude is None or row.pk != exclude.pk]
    country = customer_country([(row.tax, row.tax_value) for row in others])
    check = validate_tax_id(tax, tax_value)
    if check.status == Validation.INVALID:
        fields = check_fields(tax, tax_value, country=country)
        hint = f" Did you mean {fields['suggestion']}?" if fields["suggestion"] else ""
        raise ValidationError({"tax_value": f"Not a valid {tax}: {check.reason}.{hint}"})
    value = check.normalised if check.status == Validation.VALID else tax_value
    same = check.normalised or value
    for row in others:
        if clean_tax_type(row.tax) == tax and same in (row.tax_value, row.normalised):
            raise ValidationError({"tax_value": f"This customer already has {tax} {row.tax_value}."})
    if len(tax) > 32:
        raise ValidationError({"tax": "At most 32 characters."})
    if len(value) > 64:
        raise ValidationError({"tax_value": "At most 64 characters."})
    return CheckedValue(tax=tax, tax_value=value, status=check.status)


def _current_list(customer: Customer) -> tuple[Customer, list[TaxId]]:
    """The customer, locked, and its tax IDs in order: edits are computed from what is saved now."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    return locked, list(TaxId.objects.filter(customer=locked).order_by("position", "id"))


def _save_list(*, customer: Customer, user, rows: list[dict]) -> Customer:
    with edited_by(user):
        return customer_update(customer=customer, user=user, data={"tax_ids": rows})


def _row_of(rows: list[TaxId], tax_id: TaxId | int) -> int:
    pk = tax_id.pk if isinstance(tax_id, TaxId) else tax_id
    for index, row in enumerate(rows):
        if row.pk == pk:
            return index
    raise TaxId.DoesNotExist(f"Tax ID {pk} is no longer on this customer.")


@transaction.atomic
def tax_id_add(*, customer: Customer, user, tax: str, tax_value: str) -> TaxId:
    """Add a tax ID at the end of the customer's list (refused if invalid); returns the new row."""
    customer, rows = _current_list(customer)
    accepted = check_new_value(customer=customer, tax=tax, tax_value=tax_value)
    _save_list(customer=customer, user=user, rows=[*(row.as_upstream() for row in rows), _upstream(accepted)])
    return TaxId.objects.filter(customer=customer).order_by("-position", "-id").first()


@transaction.atomic
def tax_id_update(*, tax_id: TaxId, user, tax: str, tax_value: str) -> TaxId:
    """Change one tax ID's type or value (refused if invalid); its review starts again."""
    customer, rows = _current_list(tax_id.customer)
    index = _row_of(rows, tax_id)
    accepted = check_new_value(customer=customer, tax=tax, tax_value=tax_value, exclude=rows[index])
    new_list = [row.as_upstream() for row in rows]
    new_list[index] = _upstream(accepted)
    _save_list(customer=customer, user=user, rows=new_list)
    return _at(customer, index)


@transaction.atomic
def tax_id_fix(*, tax_id: TaxId, user) -> TaxId:
    """Replace a tax ID by its suggested normal form, in one click; raises ValidationError if none."""
    customer, rows = _current_list(tax_id.customer)
    index = _row_of(rows, tax_id)
    row = rows[index]
    country = customer_country([(other.tax, other.tax_value) for other in rows if other.pk != row.pk])
    suggestion = check_fields(row.tax, row.tax_value, country=country)["suggestion"]
    if not suggestion:
        raise ValidationError({"tax_value": "There is no suggested form for this value: edit it instead."})
    new_list = [other.as_upstream() for other in rows]
    new_list[index] = {"tax": row.tax, "tax_value": suggestion}
    _save_list(customer=customer, user=user, rows=new_list)
    return _at(customer, index)


@transaction.atomic
def tax_id_remove(*, tax_id: TaxId, user) -> Customer:
    """Take a tax ID off the customer; its review history stays."""
    customer, rows = _current_list(tax_id.customer)
    index = _row_of(rows, tax_id)
    return _save_list(
        customer=customer, user=user, rows=[row.as_upstream() for i, row in enumerate(rows) if i != index]
    )


class TaxIdsChanged(Exception):
    """The customer's tax IDs changed since the editor saw them: saving the edited list would revert that."""

    def __init__(self, customer: Customer, tax_ids: list[dict]):
        super().__init__("Someone else changed this customer's tax IDs while you were editing them.")
        self.customer = customer
        self.tax_ids = tax_ids


def tax_ids_as_seen(*, customer: Customer, seen: list[dict] | None) -> Customer:
    """The customer, locked, if its tax IDs are still `seen` (in order); raises TaxIdsChanged if not.

    `seen` None (the editor's starting list is not known) counts as changed: ask, not guess.
    """
    customer, rows = _current_list(customer)
    now = [row.as_upstream() for row in rows]
    if now != seen:
        raise TaxIdsChanged(customer, now)
    return customer


@transaction.atomic
def tax_ids_replace(*, customer: Customer, user, tax_ids: list[dict], seen: list[dict] | None) -> Customer:
    """Make the customer's tax IDs `tax_ids`, in order, in one edit: Django admin's inline edits the whole list.

    `seen` is the list the editor started from: when it changed since, TaxIdsChanged is raised and nothing
    saved, so nobody's edit is reverted. Each new or changed value must have been accepted by `check_new_value`.
    """
    customer = tax_ids_as_seen(customer=customer, seen=seen)
    return _save_list(customer=customer, user=user, rows=tax_ids)


@transaction.atomic
def tax_id_move(*, tax_id: TaxId, user, offset: int) -> Customer:
    """Move a tax ID up (-1) or down (+1) the customer's list; the first one is the main one."""
    customer, rows = _current_list(tax_id.customer)
    index = _row_of(rows, tax_id)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(rows):
        return customer
    rows[index], rows[target] = rows[target], rows[index]
    return _save_list(customer=customer, user=user, rows=[row.as_upstream() for row in rows])


def _upstream(accepted: CheckedValue) -> dict:
    return {"tax": accepted.tax, "tax_value": accepted.tax_value}


def _at(customer: Customer, index: int) -> TaxId:
    return TaxId.objects.filter(customer=customer).order_by("position", "id")[index]
