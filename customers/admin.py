from django.contrib import admin

from backoffice.sync.admin import MirroredRecordAdmin

from .models import Customer, TaxId


class TaxIdInline(admin.TabularInline):
    model = TaxId
    extra = 0
    fields = ("position", "tax", "tax_value")


@admin.register(Customer)
class CustomerAdmin(MirroredRecordAdmin):
    list_display = ("name", "type", "id_crm", "sync_status", "updated_at")
    list_filter = ("type", "sync_status")
    search_fields = ("name", "id_crm", "id_erp", "id_accounting", "tax_ids__tax_value")
    readonly_fields = ("id", "workspace_id", "created_at", "updated_at", "sync_status", "sync_error", "last_synced")
    inlines = [TaxIdInline]
