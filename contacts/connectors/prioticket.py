"""Prioticket Distributor API v3: `PUT /contacts/{contact_uid}` overwrites the contact, never merges.

So every push sends the complete contact: our fields over the copy Prioticket gave back last time,
so that what staff entered there (passport, address…) survives our edits. OAuth2 client
credentials; the token is fetched once and kept until shortly before it expires.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from backoffice.sync.connectors import Call, Connector, path_segment
from backoffice.sync.connectors.http import ClientCredentials, TargetClient

CONTACT_FIELDS = (
    "contact_uid", "contact_external_uid", "contact_name_first", "contact_name_last", "contact_email",
    "contact_phone", "contact_mobile", "contact_language", "contact_nationality", "contact_gender",
    "contact_birth_place", "contact_passport", "contact_age", "contact_address",
)  # fmt: skip


class PrioticketConnector(Connector):
    target = "prioticket"
    label = "Prioticket"
    model_label = "contacts.PrioticketLink"
    related_name = "prioticket_link"

    def call(self, link, contact=None) -> Call:
        contact = contact or link.contact
        kept = {name: value for name, value in (link.last_answer or {}).items() if name in CONTACT_FIELDS}
        ours = {
            "contact_uid": link.contact_uid,
            "contact_external_uid": str(contact.pk),  # our (Qwoty's) id, to find it back
            "contact_name_first": contact.first_name,
            "contact_name_last": contact.last_name,
            "contact_email": contact.email,
            "contact_phone": contact.phone,
            "contact_language": link.contact_language or None,
        }
        body = {"data": {"contact": {**dict.fromkeys(CONTACT_FIELDS), **kept, **ours}}}
        params = {"order_reference": link.order_reference} if link.order_reference else {}
        return Call("PUT", f"contacts/{path_segment(link.contact_uid, 'the Prioticket contact uid')}", body, params)

    def errors(self, link, contact=None) -> dict[str, str]:
        contact = contact or link.contact
        errors = {}
        if not link.contact_uid:
            errors["contact_uid"] = "Prioticket needs the contact's uid."
        if contact.email:
            try:
                validate_email(contact.email)
            except ValidationError:
                errors["email"] = "Prioticket refuses this email address."
        return errors

    def kept(self, answer: dict) -> dict:
        items = (answer.get("data") or {}).get("items") or [{}]
        return items[0]

    def client(self) -> TargetClient:
        auth = ClientCredentials(
            self.label,
            settings.PRIOTICKET_TOKEN_URL,
            settings.PRIOTICKET_CLIENT_ID,
            settings.PRIOTICKET_CLIENT_SECRET,
        )
        return TargetClient(self.label, settings.PRIOTICKET_API_URL, auth)
