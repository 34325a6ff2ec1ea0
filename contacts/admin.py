from django.contrib import admin

from backoffice.ui.record_admin import MirroredRecordAdmin, MirroredRecordAdminForm

from .forms import ContactForm
from .links import contact_edit_errors
from .models import Contact, KoyweLink, PrioticketLink
from .services import contact_update


class ContactAdminForm(MirroredRecordAdminForm, ContactForm):
    """The edit page's fields and checks (an email's domain, a phone in the customer's country, roles), with the
    admin's version handling."""

    def clean(self):
        """What a target the contact is linked to (Prioticket, Koywe) would refuse, on its field: as on our pages."""
        cleaned = super().clean()
        data = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        for name, messages in contact_edit_errors(self.instance, data).items():
            self.add_error(name, messages)
        return cleaned


@admin.register(Contact)
class ContactAdmin(MirroredRecordAdmin):
    form = ContactAdminForm
    list_display = ("last_name", "first_name", "email", "phone", "customer", "sync_status")
    list_filter = ("sync_status",)
    list_select_related = ("customer",)
    search_fields = ("first_name", "last_name", "email", "phone", "id_crm", "id_erp", "id_accounting")
    # Qwoty's contact belongs to its customer for good (its PATCH takes no customer_id): shown, not a field.
    readonly_fields = ("id", "customer", "created_at", "updated_at", "sync_status", "sync_error", "last_synced")

    def update(self, *, record, user, data: dict, expected_version: int) -> None:
        # What a linked target would refuse is refused.
        contact_update(contact=record, user=user, data=data, expected_version=expected_version)


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
