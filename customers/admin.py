from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminURLFieldWidget

from backoffice.sync.admin import MirroredRecordAdmin
from backoffice.web_urls import WebURLField, WebURLValidator

from .models import Customer, TaxId


class TaxIdInline(admin.TabularInline):
    model = TaxId
    extra = 0
    fields = ("position", "tax", "tax_value")


class CustomerAdminForm(forms.ModelForm):
    # http and https only, as on our pages; the widget's "Currently:" link too (Django's would take ftp).
    logo = WebURLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        empty_value=None,
        widget=AdminURLFieldWidget(validator_class=WebURLValidator),
    )


@admin.register(Customer)
class CustomerAdmin(MirroredRecordAdmin):
    form = CustomerAdminForm
    list_display = ("name", "type", "id_crm", "sync_status", "updated_at")
    list_filter = ("type", "sync_status")
    search_fields = ("name", "id_crm", "id_erp", "id_accounting", "tax_ids__tax_value")
    readonly_fields = ("id", "workspace_id", "created_at", "updated_at", "sync_status", "sync_error", "last_synced")
    inlines = [TaxIdInline]
