"""A test double of Koywe's contacts API, under /koywe/v1.

One organization with one merchant; `PUT .../contacts/{id}` replaces the contact at
that id after Koywe's checks (email, phone for the country, document type for the
business type, tax ID for the country, checked with phonenumbers and python-stdnum),
so the back office's own pre-send validation can be tested against it.
"""

import json
import re
import threading
from datetime import UTC, datetime
from urllib.parse import unquote

import phonenumbers
from stdnum.ar import cuit
from stdnum.br import cnpj, cpf
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.mx import rfc
from stdnum.pe import ruc
from stdnum.us import ein

from backoffice.config.sandbox_credentials import SANDBOX_CREDENTIALS
from sandbox.api import Response
from sandbox.validation import EMAIL_RE

KOYWE_TOKEN = SANDBOX_CREDENTIALS["KOYWE_API_TOKEN"]
KOYWE_ORGANIZATION_ID = SANDBOX_CREDENTIALS["KOYWE_ORGANIZATION_ID"]
KOYWE_MERCHANT_ID = SANDBOX_CREDENTIALS["KOYWE_MERCHANT_ID"]
ROUTE = re.compile(
    r"^/koywe/v1/organizations/(?P<organization>[^/]+)/merchants/(?P<merchant>[^/]+)/contacts/(?P<contact>[^/]+)/?$"
)

FIELDS = (
    "countrySymbol", "externalId", "firstName", "lastName", "email", "phone", "addressLine1", "addressLine2", "city",
    "state", "postalCode", "businessType", "taxIdType", "taxIdNumber", "documentType", "documentNumber",
    "externalBillingId", "type", "stateId", "countyId",
)  # fmt: skip
COUNTRIES = ("AR", "CL", "BR", "CO", "MX", "PE", "US")
BUSINESS_TYPES = ("PERSON", "COMPANY", "PROVIDER", "GOVERNMENT", "NON_PROFIT", "OTHER")
PERSON_DOCUMENTS = ("DNI", "CI", "CPF", "CC", "CE", "CURP", "PASSPORT")
ORGANIZATION_DOCUMENTS = ("RUT", "CUIT", "CNPJ", "NIT", "RFC", "RUC", "EIN")
DOCUMENT_TYPES = {
    "PERSON": PERSON_DOCUMENTS,
    "COMPANY": ORGANIZATION_DOCUMENTS,
    "PROVIDER": ORGANIZATION_DOCUMENTS,
    "GOVERNMENT": ORGANIZATION_DOCUMENTS,
    "NON_PROFIT": ORGANIZATION_DOCUMENTS,
    "OTHER": PERSON_DOCUMENTS + ORGANIZATION_DOCUMENTS,
}
TAX_IDS = {
    "AR": {"CUIT": cuit},
    "CL": {"RUT": rut},
    "BR": {"CNPJ": cnpj, "CPF": cpf},
    "CO": {"NIT": nit},
    "MX": {"RFC": rfc},
    "PE": {"RUC": ruc},
    "US": {"EIN": ein},
}


class KoyweError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def invalid(field: str, why: str) -> KoyweError:
    return KoyweError(422, f"{field}: {why}")


def error_body(path: str, status: int, message: str) -> dict:
    return {"statusCode": status, "message": message}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Koywe:
    def __init__(
        self,
        token: str = KOYWE_TOKEN,
        organization_id: str = KOYWE_ORGANIZATION_ID,
        merchant_id: str = KOYWE_MERCHANT_ID,
    ):
        self.token = token
        self.organization_id, self.merchant_id = organization_id, merchant_id
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._contacts: dict[str, dict] = {}

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes, authorization) -> Response:
        try:
            if authorization != f"Bearer {self.token}":
                raise KoyweError(401, "Unauthorized")
            match = ROUTE.match(path)
            if not match:
                raise KoyweError(404, "Not Found")
            if method != "PUT":
                raise KoyweError(405, "Method Not Allowed")
            if (match["organization"], match["merchant"]) != (self.organization_id, self.merchant_id):
                raise KoyweError(404, "Merchant not found")
            contact = self.put_contact(unquote(match["contact"]), body)
        except KoyweError as error:
            return Response(error.status, error_body(path, error.status, error.message))
        return Response(200, contact)

    def put_contact(self, contact_id: str, body: bytes) -> dict:
        values = validate(parse(body))
        with self._lock:
            previous = self._contacts.get(contact_id)
            updated = now_iso()
            contact = {
                "id": contact_id,
                "countrySymbol": values.get("countrySymbol"),
                "merchantId": self.merchant_id,
                "firstName": values.get("firstName"),
                "lastName": values.get("lastName"),
                "email": values.get("email"),
                "phone": values.get("phone"),
                "address": {
                    name: values.get(name) for name in ("addressLine1", "addressLine2", "city", "state", "postalCode")
                },
                "businessType": values.get("businessType"),
                "tax": {"type": values.get("taxIdType"), "number": values.get("taxIdNumber")},
                "document": {"type": values.get("documentType"), "number": values.get("documentNumber")},
                "createdAt": previous["createdAt"] if previous else updated,
                "updatedAt": updated,
                "externalId": values.get("externalId"),
            }
            self._contacts[contact_id] = contact
        return contact

    def stored_contact(self, contact_id: str) -> dict | None:
        with self._lock:
            return self._contacts.get(contact_id)


def parse(body: bytes) -> dict:
    """The body as an object of known string-or-null fields, else a 400."""
    try:
        values = json.loads(body)
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise KoyweError(400, "Body must be a JSON object")
    for name, value in values.items():
        if name not in FIELDS:
            raise KoyweError(400, f"property {name} should not exist")
        if value is not None and not isinstance(value, str):
            raise KoyweError(400, f"{name} must be a string")
    return values


def validate(values: dict) -> dict:
    """`values` if Koywe would accept them, else a 422 for the first failing rule."""
    country = values.get("countrySymbol")
    business_type = values.get("businessType")
    email = values.get("email")
    phone = values.get("phone")
    document_type, document_number = values.get("documentType"), values.get("documentNumber")
    tax_type, tax_number = values.get("taxIdType"), values.get("taxIdNumber")
    if country is not None and country not in COUNTRIES:
        raise invalid("countrySymbol", f"must be one of {', '.join(COUNTRIES)}")
    if business_type is not None and business_type not in BUSINESS_TYPES:
        raise invalid("businessType", f"must be one of {', '.join(BUSINESS_TYPES)}")
    if email is not None and not EMAIL_RE.match(email):
        raise invalid("email", "must be a valid email")
    if phone is not None and not is_valid_phone(phone, country):
        where = f"for {country}" if country else "in +E.164 form (no countrySymbol given)"
        raise invalid("phone", f"must be a valid phone number {where}")
    if document_type is not None:
        if document_number is None:
            raise invalid("documentNumber", "is required with documentType")
        accepted = DOCUMENT_TYPES[business_type or "OTHER"]
        if document_type not in accepted:
            for_type = f"businessType {business_type}" if business_type else "any businessType"
            raise invalid("documentType", f"{document_type} is not accepted for {for_type}")
    if tax_type is not None:
        if tax_number is None:
            raise invalid("taxIdNumber", "is required with taxIdType")
        if country is None:
            raise invalid("countrySymbol", "is required with taxIdType")
        validator = TAX_IDS[country].get(tax_type)
        if validator is None:
            raise invalid("taxIdType", f"{tax_type} is not accepted for countrySymbol {country}")
        if not validator.is_valid(tax_number):
            raise invalid("taxIdNumber", f"is not a valid {tax_type}")
    return values


def is_valid_phone(phone: str, country: str | None) -> bool:
    if country is None and not re.fullmatch(r"\+[1-9][0-9]{1,14}", phone):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(phone, country))
    except phonenumbers.NumberParseException:
        return False
