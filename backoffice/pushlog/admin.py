"""The admin's pages of the push engine's models: the push log (read-only) and each target's paused state."""

from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from backoffice.sync.models import PushAttempt, TargetState
from backoffice.ui.read_only_admin import ReadOnlyAdmin
from backoffice.ui.templatetags.backoffice import pretty_json


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
class TargetStateAdmin(ReadOnlyAdmin):
    """Read-only: the push engine writes it. A paused target is resumed on /sync/, which also queues what waited."""

    list_display = ("target", "paused", "paused_reason", "paused_at", "failing_since", "failing_reason")
