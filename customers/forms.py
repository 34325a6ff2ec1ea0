import uuid

from django import forms

from backoffice.ui.listing import ListParams
from backoffice.ui.record_forms import UPSTREAM_TEXT_LENGTH, RecordForm, text_field
from backoffice.web_urls import WebURLField

from .models import Customer
from .selectors import NO_SEGMENT, SORT_COLUMNS, customer_segments


class CustomerListParams(ListParams):
    type = forms.ChoiceField(required=False, choices=[("", "Any type"), *Customer.Type.choices])
    segment = forms.CharField(required=False, max_length=36)

    sort_columns = SORT_COLUMNS
    default_sort = "name"

    def clean_segment(self) -> str:
        segment = self.cleaned_data["segment"]
        if segment and segment != NO_SEGMENT:
            try:
                return str(uuid.UUID(segment))
            except ValueError:
                raise forms.ValidationError("Unknown segment.") from None
        return segment


def as_uuid(value) -> uuid.UUID:
    """A form's text, or the record's own UUID (a field's initial value, compared when someone saved meanwhile)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


class CustomerForm(RecordForm):
    name = text_field("Name", required=True)
    logo = WebURLField(
        label="Logo URL", required=False, max_length=UPSTREAM_TEXT_LENGTH, assume_scheme="https", empty_value=None
    )
    segment_id = forms.TypedChoiceField(label="Segment", required=False, coerce=as_uuid, empty_value=None)
    id_crm = text_field("CRM id")
    id_erp = text_field("ERP id")
    id_accounting = text_field("Accounting id")

    class Meta:
        model = Customer
        fields = ["name", "type", "segment_id", "logo", "id_crm", "id_erp", "id_accounting"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        segments = customer_segments()
        if self.instance.segment_id and self.instance.segment_id not in segments:
            segments.append(self.instance.segment_id)
        self.fields["segment_id"].choices = [("", "No segment")] + [
            (str(segment), f"Segment {str(segment).split('-')[0]}") for segment in segments
        ]
