from django.contrib import admin

from backoffice.sync.admin import MirroredRecordAdmin

from .models import Contact, KoyweLink, PrioticketLink


@admin.register(Contact)
class ContactAdmin(MirroredRecordAdmin):
    list_display = ("last_name", "first_name", "email", "phone", "customer", "sync_status")
    list_filter = ("sync_status",)
    list_select_related = ("customer",)
    search_fields = ("first_name", "last_name", "email", "phone", "id_crm", "id_erp", "id_accounting")
    raw_id_fields = ("customer",)
    readonly_fields = ("id", "created_at", "updated_at", "sync_status", "sync_error", "last_synced")


class TargetLinkAdmin(admin.ModelAdmin):
    """Read-only here: links are made and changed on the contact's page, whose service checks them as the
    target would; a plain admin save would also overwrite the push bookkeeping the worker owns."""

    list_display = ("contact", "sync_status", "last_synced_at", "linked_at")
    list_filter = ("sync_status",)
    list_select_related = ("contact",)
    search_fields = ("contact__first_name", "contact__last_name", "contact__email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PrioticketLink)
class PrioticketLinkAdmin(TargetLinkAdmin):
    list_display = ("contact_uid", *TargetLinkAdmin.list_display)
    search_fields = ("contact_uid", *TargetLinkAdmin.search_fields)


@admin.register(KoyweLink)
class KoyweLinkAdmin(TargetLinkAdmin):
    list_display = ("koywe_id", "country_symbol", *TargetLinkAdmin.list_display)
    search_fields = ("koywe_id", *TargetLinkAdmin.search_fields)
