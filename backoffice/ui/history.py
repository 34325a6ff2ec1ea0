"""Change history: who changed what on the mirrored records, with each field's label as staff read it."""

from dataclasses import dataclass

from backoffice.audit.models import Change
from backoffice.records import KINDS, Kind, kind_of

# Where the model's verbose name would read oddly in a history line.
FIELD_LABELS = {"tax_ids": "Tax IDs", "role": "Roles", "segment_id": "Segment", "logo": "Logo URL"}


def field_label(kind: Kind, name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    label = str(kind.model._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: object
    new: object


@dataclass(frozen=True)
class ChangeEntry:
    change: Change
    kind: Kind
    record_label: str
    fields: list[FieldChange]

    @property
    def record_url(self) -> str:
        return self.kind.url("detail", self.change.record_id)


def _entries(changes: list[Change], labels: dict) -> list[ChangeEntry]:
    entries = []
    for change in changes:
        kind = KINDS[change.resource]
        fields = [FieldChange(field_label(kind, name), old, new) for name, (old, new) in change.changes.items()]
        label = labels.get((change.resource, change.record_id), "(deleted record)")
        entries.append(ChangeEntry(change=change, kind=kind, record_label=label, fields=fields))
    return entries


def recent_changes(*, user, limit: int = 15) -> list[ChangeEntry]:
    """The latest staff edits of records the user may see, with each record's name: 2 + one query per entity."""
    visible = [resource for resource, kind in KINDS.items() if kind.can_view(user)]
    changes = list(Change.objects.filter(resource__in=visible, from_qwoty=False).select_related("user")[:limit])
    labels = {}
    for resource in {change.resource for change in changes}:
        ids = {change.record_id for change in changes if change.resource == resource}
        for record in KINDS[resource].model.objects.filter(pk__in=ids):
            labels[(resource, record.pk)] = str(record)
    return _entries(changes, labels)


def record_changes(record, *, limit: int = 50) -> list[ChangeEntry]:
    """Who changed what on one record, newest first."""
    kind = kind_of(record)
    changes = list(Change.objects.filter(resource=kind.resource, record_id=record.pk).select_related("user")[:limit])
    return _entries(changes, {(kind.resource, record.pk): str(record)})


def last_change(record) -> Change | None:
    """The latest staff edit of a record: who to name when an edit turns out stale."""
    kind = kind_of(record)
    return Change.objects.filter(resource=kind.resource, record_id=record.pk).select_related("user").first()
