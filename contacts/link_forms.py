"""The forms of a contact's links to the secondary targets: only what staff enter, never the push bookkeeping.

The target's own checks (tax ID, document, the contact's phone in the country…) run in `links.link_save`,
so they are the same for the form and for the push; a form checks only what the database would refuse.
"""

from django import forms

from .models import KoyweLink, PrioticketLink


class LinkForm(forms.ModelForm):
    #: fields that span both columns of the form grid
    wide_fields: tuple[str, ...] = ()


class PrioticketLinkForm(LinkForm):
    class Meta:
        model = PrioticketLink
        fields = ["contact_uid", "order_reference", "contact_language"]
        error_messages = {"contact_uid": {"unique": "Another contact is already linked to this Prioticket contact."}}


class KoyweLinkForm(LinkForm):
    wide_fields = ("address_line1", "address_line2")

    class Meta:
        model = KoyweLink
        fields = [
            "koywe_id",
            "country_symbol",
            "business_type",
            "document_type",
            "document_number",
            "tax_id_type",
            "tax_id_number",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
        ]
        error_messages = {"koywe_id": {"unique": "Another contact is already linked to this Koywe contact."}}


LINK_FORMS: dict[str, type[LinkForm]] = {"prioticket": PrioticketLinkForm, "koywe": KoyweLinkForm}
