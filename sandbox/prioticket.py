"""A test double of Prioticket's Distributor API v3 contacts, under /prioticket.

OAuth2 client credentials at /prioticket/oauth2/token issue bearer tokens that
expire after a settable TTL and can all be revoked at once; `PUT /v3/contacts/{uid}`
overwrites the stored contact with exactly the body's (missing keys become null),
as Prioticket does, so a client sending a diff loses data here too.
"""

import base64
import binascii
import itertools
import json
import secrets
import threading
import time
from http import HTTPStatus
from urllib.parse import parse_qs, unquote

from backoffice.config.sandbox_credentials import SANDBOX_CREDENTIALS
from sandbox.api import Response
from sandbox.validation import EMAIL_RE

PRIOTICKET_CLIENT_ID = SANDBOX_CREDENTIALS["PRIOTICKET_CLIENT_ID"]
PRIOTICKET_CLIENT_SECRET = SANDBOX_CREDENTIALS["PRIOTICKET_CLIENT_SECRET"]
OAUTH_PREFIX = "/prioticket/oauth2"
TOKEN_PATH = f"{OAUTH_PREFIX}/token"
CONTACTS_PREFIX = "/prioticket/v3/contacts/"
API_VERSION = "3.4.0"
DEFAULT_TOKEN_TTL = 3600

ADDRESS_FIELDS = (
    "name", "street", "city", "postal_code", "region", "country", "country_code", "place_id", "latitude",
    "longitude", "notes",
)  # fmt: skip
CONTACT_FIELDS = (
    "contact_uid", "contact_external_uid", "contact_name_first", "contact_name_last", "contact_email",
    "contact_phone", "contact_mobile", "contact_language", "contact_nationality", "contact_gender",
    "contact_birth_place", "contact_passport", "contact_age", "contact_address",
)  # fmt: skip


class PrioticketError(Exception):
    """A v3 error answer: status, Prioticket's error_code and its message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def validation_failure(message: str) -> PrioticketError:
    return PrioticketError(400, "VALIDATION_FAILURE", message)


def error_body(path: str, status: int, message: str) -> dict:
    """An error in the shape of the endpoint at `path`: OAuth2's for the token, v3's for the rest."""
    code = HTTPStatus(status).name
    if path == TOKEN_PATH:
        return {"error": code.lower(), "error_description": message}
    return v3_error(code, message)


def v3_error(code: str, message: str) -> dict:
    return {"api_version": API_VERSION, "error_code": code, "error_message": message}


class Prioticket:
    def __init__(self, client_id: str = PRIOTICKET_CLIENT_ID, client_secret: str = PRIOTICKET_CLIENT_SECRET):
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """No tokens, contacts or order references; the default token TTL."""
        with self._lock:
            self.token_ttl = DEFAULT_TOKEN_TTL
            self.tokens_issued = 0
            self._token_expiry: dict[str, float] = {}  # token -> time.monotonic() deadline
            self._contacts: dict[str, dict] = {}
            self._order_references: dict[str, list[str]] = {}
            self._contact_numbers = itertools.count(1)

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes, authorization) -> Response:
        if path == TOKEN_PATH:
            if method != "POST":
                return Response(405, error_body(path, 405, "Method not allowed"), {"Allow": "POST"})
            return self.issue_token(body, authorization)
        try:
            if not self.accepts(authorization):
                raise PrioticketError(401, "AUTHORIZATION_FAILURE", "Invalid or expired access token")
            contact_uid = unquote(path.removeprefix(CONTACTS_PREFIX).rstrip("/"))
            if not path.startswith(CONTACTS_PREFIX) or not contact_uid or "/" in contact_uid:
                raise PrioticketError(404, "NOT_FOUND", "Not found")
            if method != "PUT":
                raise PrioticketError(405, "METHOD_NOT_ALLOWED", "Method not allowed")
            contact = self.put_contact(contact_uid, body, query.get("order_reference", [None])[-1])
        except PrioticketError as error:
            return Response(error.status, v3_error(error.code, error.message))
        return Response(200, {"api_version": API_VERSION, "data": {"items": [contact]}})

    # OAuth2

    def issue_token(self, body: bytes, authorization) -> Response:
        form = {name: values[-1] for name, values in parse_qs(body.decode("utf-8", "replace")).items()}
        credentials = basic_credentials(authorization) or (form.get("client_id"), form.get("client_secret"))
        if credentials != (self.client_id, self.client_secret):
            return Response(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._token_expiry[token] = time.monotonic() + self.token_ttl
            self.tokens_issued += 1
            ttl = self.token_ttl
        return Response(200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl})

    def accepts(self, authorization) -> bool:
        token = (authorization or "").removeprefix("Bearer ")
        with self._lock:
            return time.monotonic() < self._token_expiry.get(token, 0.0)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._token_expiry.clear()

    def set_token_ttl(self, seconds: int) -> None:
        with self._lock:
            self.token_ttl = seconds

    # Contacts

    def put_contact(self, contact_uid: str, body: bytes, order_reference: str | None) -> dict:
        try:
            parsed = json.loads(body)
        except ValueError:
            raise validation_failure("Body must be JSON") from None
        values = clean_contact(contact_uid, parsed)
        with self._lock:
            previous = self._contacts.get(contact_uid)
            number = previous["contact_number"] if previous else f"PT{next(self._contact_numbers):08d}"
            contact = {
                "contact_uid": contact_uid,
                "contact_external_uid": values.get("contact_external_uid"),
                "contact_number": number,
                "contact_type": "CONTACT",
                **{name: values.get(name) for name in CONTACT_FIELDS[2:]},
            }
            address = values.get("contact_address")
            if address is not None:
                contact["contact_address"] = {name: address.get(name) for name in ADDRESS_FIELDS}
            self._contacts[contact_uid] = contact
            if order_reference is not None:
                self._order_references.setdefault(contact_uid, []).append(order_reference)
        return contact

    def stored_contact(self, contact_uid: str) -> dict | None:
        """The stored contact with its order references, or None."""
        with self._lock:
            contact = self._contacts.get(contact_uid)
            if contact is None:
                return None
            return {**contact, "order_references": list(self._order_references.get(contact_uid, []))}


def basic_credentials(authorization) -> tuple[str, str] | None:
    """(client_id, client_secret) from an HTTP Basic Authorization header, or None."""
    if not authorization or not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic "), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, client_secret = decoded.partition(":")
    return (unquote(client_id), unquote(client_secret)) if colon else None


def clean_contact(contact_uid: str, body) -> dict:
    """The body's contact once its shape and value types are checked, else a 400 naming the field."""
    if not isinstance(body, dict) or set(body) != {"data"}:
        raise validation_failure('Body must be {"data": {"contact": {...}}}')
    if not isinstance(body["data"], dict) or set(body["data"]) != {"contact"}:
        raise validation_failure('data must be {"contact": {...}}')
    contact = body["data"]["contact"]
    if not isinstance(contact, dict):
        raise validation_failure("data.contact must be an object")
    check_keys("data.contact", contact, CONTACT_FIELDS)
    if contact.get("contact_uid") != contact_uid:
        raise validation_failure("data.contact.contact_uid must be present and equal to the contact_uid in the path")
    for name, value in contact.items():
        if name == "contact_age":
            check_type(f"data.contact.{name}", value, int, "an integer")
        elif name == "contact_address":
            check_address(value)
        else:
            check_type(f"data.contact.{name}", value, str, "a string")
    email = contact.get("contact_email")
    if email is not None and not EMAIL_RE.match(email):
        raise validation_failure(f"data.contact.contact_email is not a valid email: {email}")
    return contact


def check_address(address) -> None:
    if address is None:
        return
    if not isinstance(address, dict):
        raise validation_failure("data.contact.contact_address must be an object or null")
    check_keys("data.contact.contact_address", address, ADDRESS_FIELDS)
    for name, value in address.items():
        if name in ("latitude", "longitude"):
            check_type(f"data.contact.contact_address.{name}", value, int | float, "a number")
        else:
            check_type(f"data.contact.contact_address.{name}", value, str, "a string")


def check_keys(where: str, obj: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise validation_failure(f"{where}.{unknown[0]} is not a known field")


def check_type(field: str, value, kind, described: str) -> None:
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise validation_failure(f"{field} must be {described} or null")
