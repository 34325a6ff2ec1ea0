"""Request body validation with Qwoty's status codes and messages.

A malformed body (not an object, unknown or read-only field) is a 400; a
well-formed body with a bad value is a 422. Messages name the field, so the
back office can show them to staff as they are. Tax ID checksums are not
checked: Qwoty stores whatever it is given.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

ROLES = ("buyer", "signer", "billing", "shipping", "legal", "admin")
CUSTOMER_TYPES = ("company", "individual")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_TEXT = 255
MAX_DESCRIPTION = 5000


class ApiError(Exception):
    """An answer other than success: HTTP status and the envelope's `error` text."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def invalid(message: str) -> ApiError:
    return ApiError(422, message)


def text(limit: int = MAX_TEXT, not_empty: bool = False) -> Callable:
    def check(field: str, value):
        if not isinstance(value, str):
            raise invalid(f"{field} must be a string")
        if not_empty and not value.strip():
            raise invalid(f"{field} cannot be empty")
        if len(value) > limit:
            raise invalid(f"{field} must be at most {limit} characters")
        return value

    return check


def one_of(choices: tuple[str, ...]) -> Callable:
    def check(field: str, value):
        if value not in choices:
            raise invalid(f"{field} must be one of: {', '.join(choices)}")
        return value

    return check


def boolean(field: str, value):
    if not isinstance(value, bool):
        raise invalid(f"{field} must be a boolean")
    return value


def uuid_text(field: str, value):
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        raise invalid(f"{field} must be a UUID") from None


def email(field: str, value):
    text()(field, value)
    if not EMAIL_RE.match(value):
        raise invalid(f"Invalid email: {value}")
    return value


def roles(field: str, value):
    if not isinstance(value, list):
        raise invalid(f"{field} must be a list")
    seen = []
    for role in value:
        if not isinstance(role, str):
            raise invalid(f"{field} must be a list of strings")
        if role not in ROLES:
            raise invalid(f"Invalid role: {role}")
        if role in seen:
            raise invalid(f"Duplicate role: {role}")
        seen.append(role)
    return seen


def tax_id_list(field: str, value):
    shape = invalid(f"{field} must be a list of objects with string tax and tax_value")
    if not isinstance(value, list):
        raise shape
    pairs = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"tax", "tax_value"}:
            raise shape
        if not all(isinstance(item[key], str) for key in ("tax", "tax_value")):
            raise shape
        for key in ("tax", "tax_value"):
            text()(f"{field}[{index}].{key}", item[key])
        pairs.append({"tax": item["tax"], "tax_value": item["tax_value"]})
    return pairs


@dataclass(frozen=True)
class Field:
    """How a writable field is checked, and what JSON null does to it."""

    check: Callable
    nullable: bool = True
    is_list: bool = False  # lists are never null: null empties them


EXTERNAL_IDS = {name: Field(text()) for name in ("id_crm", "id_erp", "id_accounting")}

WRITABLE = {
    "customer": {
        "name": Field(text(not_empty=True), nullable=False),
        "type": Field(one_of(CUSTOMER_TYPES), nullable=False),
        "segment_id": Field(uuid_text),
        "logo": Field(text()),
        "tax_ids": Field(tax_id_list, is_list=True),
        **EXTERNAL_IDS,
    },
    "contact": {
        "first_name": Field(text()),
        "last_name": Field(text()),
        "email": Field(email),
        "phone": Field(text()),
        "role": Field(roles, is_list=True),
        **EXTERNAL_IDS,
    },
    "catalog": {
        "name": Field(text(not_empty=True), nullable=False),
        "api_name": Field(text()),
        "reference": Field(text()),
        "description": Field(text(MAX_DESCRIPTION)),
        "is_active": Field(boolean, nullable=False),
        **EXTERNAL_IDS,
    },
}

READ_ONLY = {
    "customer": ("id", "workspace_id", "contact_ids", "address_ids", "created_at", "updated_at"),
    "contact": ("id", "created_at", "updated_at"),
    "catalog": ("id", "created_at", "updated_at"),
}

# Accepted in a body but checked by the endpoint, against stored data.
SPECIAL = {"contact": ("customer_id",)}


def clean(kind: str, body) -> dict:
    """The checked values of a create or update body, nulls already resolved."""
    if not isinstance(body, dict):
        raise ApiError(400, "Body must be a JSON object")
    fields = WRITABLE[kind]
    for name in body:
        if name in READ_ONLY[kind]:
            raise ApiError(400, f"Field is read-only: {name}")
        if name not in fields and name not in SPECIAL.get(kind, ()):
            raise ApiError(400, f"Unknown field: {name}")
    cleaned = {}
    for name, value in body.items():
        field = fields.get(name)
        if field is None:
            continue
        if value is None:
            if not field.nullable:
                raise invalid(f"{name} cannot be null")
            cleaned[name] = [] if field.is_list else None
        else:
            cleaned[name] = field.check(name, value)
    return cleaned
