from backoffice.sync.mirror import Mirror

from .models import Contact


class ContactMirror(Mirror):
    resource = "contacts"
    model = Contact
    fields = ("first_name", "last_name", "email", "phone", "role", "id_crm", "id_erp", "id_accounting")
    # customer_id is fixed at creation: mirrored, never pushed.
    readonly = ("customer_id", "created_at", "updated_at")

    def upstream_values(self, data):
        values = super().upstream_values(data)
        values["role"] = values["role"] or []
        return values
