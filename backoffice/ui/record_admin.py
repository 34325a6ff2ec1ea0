"""Django admin's pages of a mirrored record (customers, contacts, catalogs register them): saved through the
same edit service as the back office's forms."""

from django.contrib import admin
from django.core.exceptions import ValidationError

from backoffice.sync import mirror as mirrors
from backoffice.sync.edits import UnresolvedConflict, record_update
from backoffice.sync.models import SyncStatus
from backoffice.ui.history import last_change
from backoffice.ui.record_forms import RecordForm
from backoffice.ui.templatetags.backoffice import upstream_value


class MirroredRecordAdminForm(RecordForm):
    """Django admin's form of a mirrored record: like our edit forms, it carries the version and each field's
    value it was opened with, so a save sends only what its user changed and never reverts someone else's.

    A change made meanwhile by someone else to a field the user also changed is refused on that field;
    the form shown again carries the version the user has now seen, so saving it again keeps theirs knowingly.
    """

    class Meta:
        exclude = ("version",)  # the model's, which is not editable; the form's hidden field carries it

    #: the record's version the changes were checked against in clean(), under lock: the one to save over
    checked_version: int | None = None

    @property
    def upstream_fields(self) -> list[str]:
        return [name for name in super().upstream_fields if name in self.fields]  # not the admin's read-only ones

    def clean(self):
        cleaned = super().clean()
        if self.instance._state.adding or "version" not in cleaned:
            return cleaned
        # Locked until the admin's transaction ends: nobody saves between this check and the save.
        current = type(self.instance).objects.select_for_update().get(pk=self.instance.pk)
        if current.sync_status == SyncStatus.CONFLICT:
            raise ValidationError(str(UnresolvedConflict(current)))
        if current.version != self.expected_version() and self._refuse_changes_over_theirs(current):
            # Shown again with the version the user has now seen: saving again keeps theirs knowingly.
            self.data = self.data.copy()
            self.data[self.add_prefix("overwrite_version")] = str(current.version)
        else:
            self.checked_version = current.version
        return cleaned

    def _refuse_changes_over_theirs(self, current) -> bool:
        """Add an error on each field the user and someone else both changed, to different values; any?"""
        theirs = self.changed_since_opened(current)
        now_saved = mirrors.for_model(current).values(current)
        refused = [
            name
            for name, value in self.changed_upstream_data().items()
            if name in theirs and now_saved[name] != mirrors.to_json(value)
        ]
        if refused:
            change = last_change(current)
            who = (change.user.get_full_name() or change.user.username) if change and change.user else "Someone"
            for name in refused:
                self.add_error(
                    name,
                    f"{who} changed this to “{upstream_value(now_saved[name])}” while you were editing. "
                    "Save again to replace it with yours.",
                )
        return bool(refused)


class MirroredRecordAdmin(admin.ModelAdmin):
    """Admin for a mirrored record: saves go through the same service as the back office.

    A plain save would write every column from the form's snapshot, including sync bookkeeping the
    worker may have changed meanwhile; the update service writes only the fields the user changed since
    opening the form, over the version its form checked them against, records the change and queues the push.
    """

    form = MirroredRecordAdminForm

    # Records come from Qwoty, which we only PATCH: one added here would exist nowhere else (and has no id to give),
    # one deleted here would still be in Qwoty, and back with the next refresh.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.changed_upstream_data()
        if data:
            self.update(record=obj, user=request.user, data=data, expected_version=form.checked_version)
        obj.refresh_from_db()

    def update(self, *, record, user, data: dict, expected_version: int) -> None:
        """The entity's update service; an entity with checks of its own (a contact's linked targets) overrides it."""
        record_update(record=record, user=user, data=data, expected_version=expected_version)
