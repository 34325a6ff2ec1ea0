from django.contrib import admin

from backoffice.ui.read_only_admin import ReadOnlyAdmin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """Read-only: a job changes only through its pages (preview, confirm) and the worker."""

    list_display = ("filename", "resource", "status", "total_rows", "applied_rows", "created_by", "created_at")
    list_filter = ("resource", "status")
    search_fields = ("filename", "created_by__username")
    exclude = ("content",)
