from django.contrib import admin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: a job changes only through its pages (preview, confirm) and the worker."""

    list_display = ("filename", "resource", "status", "total_rows", "applied_rows", "created_by", "created_at")
    list_filter = ("resource", "status")
    search_fields = ("filename", "created_by__username")
    exclude = ("content",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
