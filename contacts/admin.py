from django.contrib import admin

from backoffice.sync.admin import MirroredRecordAdmin

from .models import Contact


@admin.register(Contact)
class ContactAdmin(MirroredRecordAdmin):
    list_display = ("last_name", "first_name", "email", "phone", "customer", "sync_status")
    list_filter = ("sync_status",)
    list_select_related = ("customer",)
    search_fields = ("first_name", "last_name", "email", "phone", "id_crm", "id_erp", "id_accounting")
    raw_id_fields = ("customer",)
    readonly_fields = ("id", "created_at", "updated_at", "sync_status", "sync_error", "last_synced")
