"""Bulk actions on selected list rows: what would change is shown and confirmed before anything is written."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django import forms

from backoffice.sync.models import SyncStatus

MAX_SELECTED = 500


@dataclass(frozen=True)
class BulkPreview:
    selected: int
    changing: int
    unchanged: int  # already as asked
    in_conflict: int  # left alone until the conflict is settled


def preview(records, will_change) -> BulkPreview:
    """Sort the selected records into those the action changes, those already as asked, and conflicts."""
    records = list(records)
    in_conflict = sum(1 for record in records if record.sync_status == SyncStatus.CONFLICT)
    changing = sum(1 for record in records if record.sync_status != SyncStatus.CONFLICT and will_change(record))
    return BulkPreview(
        selected=len(records),
        changing=changing,
        unchanged=len(records) - changing - in_conflict,
        in_conflict=in_conflict,
    )


class RecordIdsField(forms.Field):
    """The ids of the selected rows (checkboxes named `ids`)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Select at least one row first.",
        "invalid": "The selection is not valid; reload the page and select again.",
        "too_many": f"Select at most {MAX_SELECTED} rows at a time.",
    }

    def to_python(self, value) -> list[uuid.UUID]:
        if not value:
            return []
        try:
            ids = list(dict.fromkeys(uuid.UUID(str(item)) for item in value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if len(ids) > MAX_SELECTED:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        return ids


class BulkForm(forms.Form):
    ids = RecordIdsField()
    # The first POST asks what would change; the second, from the confirmation, applies it.
    confirmed = forms.BooleanField(required=False)


@dataclass(frozen=True)
class BulkAction:
    """One bulk action as the confirmation shows it: "Deactivate 3 catalogs?" then "3 catalogs deactivated."."""

    label: str  # what the action does to the records: "Deactivate", "Give the Buyer role to"
    done: str  # what happened to them: "deactivated", "given the Buyer role"
    preview: Callable[[], BulkPreview]
    apply: Callable[[], int]  # returns how many records changed
