"""Koywe Payments API: `PUT /organizations/{organizationId}/merchants/{merchantId}/contacts/{contactId}`.

Koywe refuses a contact whose email, phone, document or tax ID fails its checks; `errors()` runs the
same checks first, so staff see them in the form instead of a failed push. The path's shape and the
document types each business type accepts are assumed from Koywe's reference: they live here only.
"""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from backoffice.sync.connectors import Call, Connector, path_segment
from backoffice.sync.connectors.http import StaticToken, TargetClient
from customers.tax_ids.validation import validate_tax_id

COUNTRIES = [
    ("AR", "Argentina"), ("BR", "Brazil"), ("CL", "Chile"), ("CO", "Colombia"),
    ("MX", "Mexico"), ("PE", "Peru"), ("US", "United States"),
]  # fmt: skip
BUSINESS_TYPES = [
    ("PERSON", "Person"), ("COMPANY", "Company"), ("PROVIDER", "Provider"),
    ("GOVERNMENT", "Government"), ("NON_PROFIT", "Non-profit"), ("OTHER", "Other"),
]  # fmt: skip
PERSON_DOCUMENTS = ("DNI", "CI", "CPF", "CC", "CE", "CURP", "PASSPORT")
ORGANISATION_DOCUMENTS = ("RUT", "CUIT", "CNPJ", "NIT", "RFC", "RUC", "EIN")
DOCUMENT_TYPE_CHOICES = [(name, name) for name in (*PERSON_DOCUMENTS, *ORGANISATION_DOCUMENTS)]
# Tax IDs Koywe takes in each country; python-stdnum checks the number (customers/tax_ids/validation.py).
TAX_ID_TYPES = {"AR": ("CUIT",), "BR": ("CNPJ", "CPF"), "CL": ("RUT",), "CO": ("NIT",), "MX": ("RFC",)}
TAX_ID_TYPES |= {"PE": ("RUC",), "US": ("EIN",)}
TAX_ID_TYPE_CHOICES = [(name, name) for name in sorted({name for names in TAX_ID_TYPES.values() for name in names})]


def documents_for(business_type: str) -> tuple[str, ...]:
    """The document types Koywe accepts for a business type (assumed: its reference gives DNI/RUT as examples)."""
    if business_type == "PERSON":
        return PERSON_DOCUMENTS
    if business_type == "OTHER":
        return (*PERSON_DOCUMENTS, *ORGANISATION_DOCUMENTS)
    return ORGANISATION_DOCUMENTS


class KoyweConnector(Connector):
    target = "koywe"
    label = "Koywe"
    model_label = "contacts.KoyweLink"
    related_name = "koywe_link"

    def call(self, link, contact=None) -> Call:
        contact = contact or link.contact
        body = {
            "countrySymbol": link.country_symbol,
            "externalId": str(contact.pk),
            "firstName": contact.first_name,
            "lastName": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
            "addressLine1": link.address_line1 or None,
            "addressLine2": link.address_line2 or None,
            "city": link.city or None,
            "state": link.state or None,
            "postalCode": link.postal_code or None,
            "businessType": link.business_type,
            "documentType": link.document_type or None,
            "documentNumber": link.document_number or None,
            "taxIdType": link.tax_id_type or None,
            "taxIdNumber": link.tax_id_number or None,
        }
        organization = path_segment(settings.KOYWE_ORGANIZATION_ID, "the setting KOYWE_ORGANIZATION_ID")
        merchant = path_segment(settings.KOYWE_MERCHANT_ID, "the setting KOYWE_MERCHANT_ID")
        contact_id = path_segment(link.koywe_id, "the Koywe contact id")
        path = f"organizations/{organization}/merchants/{merchant}/contacts/{contact_id}"
        return Call("PUT", path, body)

    def errors(self, link, contact=None) -> dict[str, str]:
        contact = contact or link.contact
        country = link.country_symbol
        errors = {}
        if contact.email:
            try:
                validate_email(contact.email)
            except ValidationError:
                errors["email"] = "Koywe refuses this email address."
        if contact.phone and not _phone_valid_in(contact.phone, country):
            errors["phone"] = f"Koywe needs a phone number valid in {country or 'its country'}."
        # Every field's error at once, so one submit shows all there is to fix.
        if link.document_type and not link.document_number:
            errors["document_number"] = "Koywe needs the number of the document."
        if link.document_type and link.document_type not in documents_for(link.business_type):
            business = dict(BUSINESS_TYPES).get(link.business_type, link.business_type)
            errors["document_type"] = f"Koywe does not take a {link.document_type} for a {business.lower()}."
        if link.tax_id_type and link.tax_id_type not in TAX_ID_TYPES.get(country, ()):
            errors["tax_id_type"] = f"Koywe does not take a {link.tax_id_type} in {country}."
        if link.tax_id_type and not link.tax_id_number:
            errors["tax_id_number"] = "Koywe needs the tax ID's number."
        elif link.tax_id_type and "tax_id_type" not in errors:
            check = validate_tax_id(link.tax_id_type, link.tax_id_number)
            if check.status != "valid":
                errors["tax_id_number"] = f"Not a valid {link.tax_id_type}: {check.reason}"
        return errors

    def kept(self, answer: dict) -> dict:
        return answer

    def client(self) -> TargetClient:
        return TargetClient(self.label, settings.KOYWE_API_URL, StaticToken(settings.KOYWE_API_TOKEN))


def _phone_valid_in(phone: str, country: str) -> bool:
    try:
        number = phonenumbers.parse(phone, country or None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number_for_region(number, country) if country else phonenumbers.is_valid_number(number)
