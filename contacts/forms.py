import uuid

from django import forms

from backoffice.accounts.permissions import CONTACT_DETAILS
from backoffice.ui.bulk import BulkForm
from backoffice.ui.listing import ListParams
from backoffice.ui.record_forms import RecordForm, text_field
from customers.tax_ids.countries import customer_country

from .models import Contact, Role
from .phones import display_phone, parse_phone
from .selectors import SORT_COLUMNS


class ContactListParams(ListParams):
    role = forms.ChoiceField(required=False, choices=[("", "Any role"), *Role.choices])
    customer = forms.UUIDField(required=False)

    sort_columns = SORT_COLUMNS
    default_sort = "name"

    def clean_customer(self) -> str:
        customer: uuid.UUID | None = self.cleaned_data["customer"]
        return str(customer) if customer else ""


class ContactDetailsForm(RecordForm):
    """What Support may change: roles and contact details."""

    first_name = text_field("First name")
    last_name = text_field("Last name")
    email = forms.EmailField(label="Email", required=False, max_length=255, empty_value=None)
    phone = text_field(
        "Phone",
        max_length=64,
        help_text="Any usual format; without +, it is read in the customer's country.",
    )
    role = forms.MultipleChoiceField(
        label="Roles", required=False, choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )

    wide_fields = ("role",)

    class Meta:
        model = Contact
        fields = list(CONTACT_DETAILS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["phone"] = display_phone(self.instance.phone) or None

    def clean_email(self):
        email = self.cleaned_data["email"]
        # Qwoty also wants a dot in the domain ("name@localhost" is refused upstream).
        if email and "." not in email.rpartition("@")[2]:
            raise forms.ValidationError("Enter an email address with a full domain, such as name@example.com.")
        return email

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        if not phone:
            return phone
        if self.instance.phone and phone == display_phone(self.instance.phone):
            # Left as it was opened: Qwoty's number stays, even one our check would refuse (some pulled numbers
            # are not valid for their country), so the rest of the contact can still be edited.
            return self.instance.phone
        region = customer_country([(t.tax, t.tax_value) for t in self.instance.customer.tax_ids.all()])
        check = parse_phone(phone, region=region)
        if not check.valid:
            raise forms.ValidationError(f"{check.error}.")
        stored = self.instance.phone
        if stored and parse_phone(stored, region=region).stored == check.stored:
            return stored  # the same number, maybe written differently: not a change to push
        return check.stored

    def clean_role(self):
        chosen = set(self.cleaned_data["role"])
        current = self.instance.role or []
        # Keep the existing order and append new roles in the canonical order: reordering alone is no edit.
        return [role for role in current if role in chosen] + [
            role for role in Role.values if role in chosen and role not in current
        ]


class ContactForm(ContactDetailsForm):
    """Sales Ops and managers also change the external ids."""

    id_crm = text_field("CRM id")
    id_erp = text_field("ERP id")
    id_accounting = text_field("Accounting id")

    class Meta(ContactDetailsForm.Meta):
        fields = [*ContactDetailsForm.Meta.fields, "id_crm", "id_erp", "id_accounting"]


class ContactBulkForm(BulkForm):
    ADD, REMOVE = "add_role", "remove_role"
    action = forms.ChoiceField(choices=[(ADD, "Add role"), (REMOVE, "Remove role")])
    role = forms.ChoiceField(choices=Role.choices)


class ContactRoleForm(forms.Form):
    """One role chip clicked: the role and whether the contact should now have it."""

    role = forms.ChoiceField(choices=Role.choices)
    present = forms.TypedChoiceField(choices=[("true", "Give"), ("false", "Take")], coerce=lambda v: v == "true")
