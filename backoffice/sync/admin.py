from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from backoffice.templatetags.backoffice import pretty_json

from .edits import record_update
from .models import PushAttempt, TargetState


class MirroredRecordAdmin(admin.ModelAdmin):
    """Admin for a mirrored record: saves go through the same service as the back office.

    A plain save would write every column from the form's snapshot, including sync bookkeeping the
    worker may have changed meanwhile; record_update writes only the edited fields, records the
    change and queues the push.
    """

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in self.mirrored_fields(obj)}
        if data:
            self.update(record=obj, user=request.user, data=data)
        obj.refresh_from_db()

    def update(self, *, record, user, data: dict) -> None:
        """The entity's update service; an entity with checks of its own (a contact's linked targets) overrides it."""
        record_update(record=record, user=user, data=data)

    def mirrored_fields(self, obj) -> set[str]:
        from . import mirror as mirrors

        return set(mirrors.for_model(obj).fields)


@admin.register(PushAttempt)
class PushAttemptAdmin(admin.ModelAdmin):
    list_display = (
        *("created_at", "target", "method", "resource", "record_id", "status", "error_kind", "duration_ms", "user"),
    )
    list_filter = ("target", "resource", "error_kind", "status")
    search_fields = ("record_id", "url", "error_message")
    date_hierarchy = "created_at"
    # The bodies as our pages show them: the admin would show the stored text, or decode the request's JSON.
    exclude = ("request_body", "response_body")
    readonly_fields = ("request", "response")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, without its warning

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="request body")
    def request(self, obj):
        return shown_body(obj.request_body)

    @admin.display(description="response body")
    def response(self, obj):
        return shown_body(obj.response_body)


def shown_body(body):
    """A stored body (text or JSON data) for an admin page: indented, secrets redacted once decoded."""
    return format_html("<pre>{}</pre>", pretty_json(body)) if body not in (None, "") else None


@admin.register(TargetState)
class TargetStateAdmin(admin.ModelAdmin):
    list_display = ("target", "paused", "paused_reason", "paused_at")
