from django import forms

from backoffice.ui.bulk import BulkForm
from backoffice.ui.listing import ListParams
from backoffice.ui.record_forms import RecordForm, text_field

from .models import Catalog
from .selectors import ACTIVE, INACTIVE, SORT_COLUMNS

# Qwoty's limit for a catalog's description.
MAX_DESCRIPTION = 5000


class CatalogListParams(ListParams):
    active = forms.ChoiceField(
        required=False, choices=[("", "Active or not"), (ACTIVE, "Active"), (INACTIVE, "Inactive")]
    )

    sort_columns = SORT_COLUMNS
    default_sort = "name"


class CatalogForm(RecordForm):
    name = text_field("Name", required=True)
    api_name = text_field("API name")
    reference = text_field("Reference")
    description = forms.CharField(
        label="Description", required=False, max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 5})
    )
    is_active = forms.BooleanField(label="Active (offered in new quotes)", required=False)
    id_crm = text_field("CRM id")
    id_erp = text_field("ERP id")
    id_accounting = text_field("Accounting id")

    wide_fields = ("description", "is_active")

    class Meta:
        model = Catalog
        fields = ["name", "reference", "api_name", "description", "is_active", "id_crm", "id_erp", "id_accounting"]


class CatalogBulkForm(BulkForm):
    ACTIVATE, DEACTIVATE = "activate", "deactivate"
    action = forms.ChoiceField(choices=[(ACTIVATE, "Activate"), (DEACTIVATE, "Deactivate")])


class CatalogActiveForm(forms.Form):
    is_active = forms.TypedChoiceField(
        choices=[("true", "Active"), ("false", "Inactive")], coerce=lambda v: v == "true"
    )
