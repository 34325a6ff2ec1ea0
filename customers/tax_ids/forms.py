"""Forms of the tax-ID review: the list's query string, review notes, bulk approval, and a tax ID's value."""

from django import forms

from backoffice.ui.listing import ListParams
from customers.models import TaxId
from customers.tax_ids.selectors import DEFAULT_SORT, SORT_COLUMNS
from customers.tax_ids.services import KNOWN_TAX_TYPES

NOTE_LENGTH = 1000


class TaxIdListParams(ListParams):
    sync_status = None  # tax IDs have no sync status of their own
    review = forms.ChoiceField(required=False, choices=[("", "Any review status"), *TaxId.Review.choices])
    validation = forms.ChoiceField(required=False, choices=[("", "Any validation"), *TaxId.Validation.choices])
    tax = forms.CharField(required=False, max_length=32)
    country = forms.RegexField(required=False, regex=r"^[A-Za-z]{2}$")
    fixable = forms.BooleanField(required=False, label="Only with a suggested fix")
    customer = forms.UUIDField(required=False)

    sort_columns = SORT_COLUMNS
    default_sort = DEFAULT_SORT

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()

    def clean_customer(self) -> str:
        customer = self.cleaned_data["customer"]
        return str(customer) if customer else ""


class ReviewForm(forms.Form):
    """Approve or reject: the note, and the value the manager saw (so a value changed meanwhile is not decided)."""

    note = forms.CharField(required=False, max_length=NOTE_LENGTH, strip=True, widget=forms.Textarea(attrs={"rows": 2}))
    tax_value = forms.CharField(required=False, max_length=64, strip=False)

    def expected_value(self) -> str | None:
        return self.cleaned_data.get("tax_value") or None


class BulkApproveForm(forms.Form):
    confirmed = forms.BooleanField(required=False)
    expected = forms.IntegerField(required=False, min_value=0)


class TaxIdForm(forms.Form):
    """A tax ID as a manager types it; the services check it (customers.tax_ids.services.check_new_value)."""

    tax = forms.CharField(
        label="Type",
        max_length=32,
        widget=forms.TextInput(attrs={"list": "tax-types", "autocomplete": "off", "placeholder": "VAT"}),
        help_text=f"{', '.join(KNOWN_TAX_TYPES)} are checked; other types are kept as typed.",
    )
    tax_value = forms.CharField(
        label="Number",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
        help_text="Any usual spelling; a valid number is stored in its normal form. Invalid numbers are refused.",
    )

    known_types = KNOWN_TAX_TYPES


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])

    def offset(self) -> int:
        return -1 if self.cleaned_data["direction"] == "up" else 1
