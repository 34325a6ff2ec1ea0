"""Staff edits of mirrored records: optimistic locking, change history, and only the given fields saved.

The per-entity services (`customer_update`, `contact_update`, `catalog_update`) are thin
wrappers around `record_update`; the post_save receivers then queue the push.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.audit.models import Change

from . import mirror as mirrors
from .models import SyncStatus


class StaleEdit(Exception):
    """The record changed since the form was opened; `current` holds the other person's values."""

    def __init__(self, current):
        super().__init__("This record was changed by someone else while you were editing it.")
        self.current = current


class UnresolvedConflict(Exception):
    """The record has fields changed both here and in Qwoty; staff must choose a side first."""

    def __init__(self, record):
        super().__init__("This record has an unresolved conflict with Qwoty; resolve it before editing.")
        self.record = record


@transaction.atomic
def record_update(*, record, user, data: dict, expected_version: int | None = None):
    """Apply `data` (upstream field names) to the record; returns the saved record.

    Raises StaleEdit when `expected_version` is given and someone saved in between,
    UnresolvedConflict while a pull found both sides changed, and ValidationError (by field) for a
    value the model refuses, so nothing invalid is saved or pushed. Saving only changed fields keeps
    the worker's bookkeeping columns untouched.
    """
    mirror = mirrors.for_model(record)
    current = type(record).objects.select_for_update().get(pk=record.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit(current)
    if current.sync_status == SyncStatus.CONFLICT:
        raise UnresolvedConflict(current)
    unknown = set(data) - set(mirror.fields)
    if unknown:
        raise KeyError(f"Not fields staff can edit on {mirror.resource}: {', '.join(sorted(unknown))}")
    before = {name: mirror.value(current, name) for name in data}  # a name edit does not read the tax IDs
    changed = {name: value for name, value in data.items() if before[name] != mirrors.to_json(value)}
    if not changed:
        return current
    _assign_validated(current, {name: value for name, value in changed.items() if name not in mirror.related})
    editor = user if user and user.is_authenticated else None
    current.version += 1
    current.edited_by = editor
    update_fields = [name for name in changed if name not in mirror.related]
    current.save(update_fields=[*update_fields, "version", "edited_by"])
    # Related upstream fields (a customer's tax IDs) are rewritten after the row is saved.
    mirror.after_save(current, changed, tuple(name for name in changed if name in mirror.related))
    Change.objects.create(
        resource=mirror.resource,
        record_id=current.pk,
        user=editor,
        changes={name: [before[name], mirrors.to_json(value)] for name, value in changed.items()},
    )
    return current


def _assign_validated(record, values: dict) -> None:
    """Run each model field's own validation (length, choices, email, roles…) and assign, or raise by field."""
    errors = {}
    for name, value in values.items():
        try:
            setattr(record, name, record._meta.get_field(name).clean(value, record))
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
