from django.contrib import admin

from backoffice.ui.record_admin import MirroredRecordAdmin, MirroredRecordAdminForm

from .forms import CatalogForm
from .models import Catalog


class CatalogAdminForm(MirroredRecordAdminForm, CatalogForm):
    """The edit page's fields and checks (a description's length…), with the admin's version handling."""


@admin.register(Catalog)
class CatalogAdmin(MirroredRecordAdmin):
    form = CatalogAdminForm
    list_display = ("name", "api_name", "reference", "is_active", "sync_status")
    list_filter = ("is_active", "sync_status")
    search_fields = ("name", "api_name", "reference", "id_crm", "id_erp", "id_accounting")
    readonly_fields = ("id", "created_at", "updated_at", "sync_status", "sync_error", "last_synced")
