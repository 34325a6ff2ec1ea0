"""Qwoty's REST resources over the store, independent of HTTP plumbing.

`Api.handle` takes an already authenticated request and returns the status,
the JSON envelope and any extra headers. Keeping it apart from the server lets
faults and auth stay in one place and the resource rules read top to bottom.
"""

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sandbox.seed import slug
from sandbox.store import Store
from sandbox.validation import ApiError, clean, uuid_text

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
ROUTE = re.compile(r"^/api/(?P<resource>customers|contacts|catalogs)(?:/(?P<id>[^/]+))?/?$")

# Key order of each object as answered, like Qwoty's.
FIELDS = {
    "customer": (
        "id", "workspace_id", "name", "type", "segment_id", "logo", "tax_ids", "id_crm", "id_erp",
        "id_accounting", "contact_ids", "address_ids", "created_at", "updated_at",
    ),
    "contact": (
        "id", "customer_id", "first_name", "last_name", "email", "phone", "role", "id_crm", "id_erp",
        "id_accounting", "created_at", "updated_at",
    ),
    "catalog": (
        "id", "name", "api_name", "reference", "description", "is_active", "id_crm", "id_erp",
        "id_accounting", "created_at", "updated_at",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Resource:
    kind: str
    label: str
    creatable: bool


RESOURCES = {
    "customers": Resource("customer", "Customer", creatable=False),
    "contacts": Resource("contact", "Contact", creatable=True),
    "catalogs": Resource("catalog", "Catalog", creatable=True),
}


@dataclass
class Response:
    status: int
    payload: dict
    headers: dict = field(default_factory=dict)


def success(data, status: int = 200, **extra) -> Response:
    return Response(status, {"success": True, "data": data, **extra})


def failure(error: ApiError) -> Response:
    return Response(error.status, {"success": False, "error": error.message}, error.headers)


def now_iso(after: str | None = None) -> str:
    """Current UTC time with microseconds, strictly later than `after` if given."""
    moment = datetime.now(UTC)
    if after:
        moment = max(moment, datetime.fromisoformat(after) + timedelta(microseconds=1))
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


class Api:
    def __init__(self, store: Store):
        self.store = store

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Response:
        try:
            return self._route(method, path, query, body)
        except ApiError as error:
            return failure(error)

    def _route(self, method, path, query, body) -> Response:
        match = ROUTE.match(path)
        if not match:
            raise ApiError(404, "Not found")
        resource = RESOURCES[match["resource"]]
        object_id = match["id"]
        allowed = allowed_methods(resource, object_id)
        if method not in allowed:
            raise ApiError(405, "Method not allowed", {"Allow": ", ".join(allowed)})
        if method == "GET" and object_id is None:
            return self.list_page(resource, query)
        if method == "GET":
            return success(self.present(resource.kind, self.fetch(resource, object_id)))
        if method == "POST":
            return success(self.create(resource, parse_body(body)), status=201)
        return success(self.update(resource, object_id, parse_body(body)))

    def list_page(self, resource: Resource, query: dict[str, list[str]]) -> Response:
        page = positive_int(query, "page", 1, "page must be a positive integer")
        per_page = positive_int(query, "per_page", DEFAULT_PER_PAGE, f"per_page must be between 1 and {MAX_PER_PAGE}")
        if per_page > MAX_PER_PAGE:
            raise ApiError(400, f"per_page must be between 1 and {MAX_PER_PAGE}")
        total = self.store.count(resource.kind)
        objects = self.store.page(resource.kind, (page - 1) * per_page, per_page)
        pagination = {"page": page, "per_page": per_page, "total": total, "total_pages": math.ceil(total / per_page)}
        return success(self.present_many(resource.kind, objects), pagination=pagination)

    def fetch(self, resource: Resource, object_id: str) -> dict:
        obj = self.store.get(resource.kind, canonical_uuid(object_id))
        if obj is None:
            raise ApiError(404, f"{resource.label} not found")
        return obj

    def update(self, resource: Resource, object_id: str, body) -> dict:
        changes = clean(resource.kind, body)

        def change(obj: dict) -> dict:
            if "customer_id" in body and canonical_uuid(body["customer_id"]) != obj["customer_id"]:
                raise ApiError(422, "customer_id cannot be changed")
            return {**obj, **changes, "updated_at": now_iso(after=obj["updated_at"])}

        updated = self.store.update(resource.kind, canonical_uuid(object_id), change)
        if updated is None:
            raise ApiError(404, f"{resource.label} not found")
        return self.present(resource.kind, updated)

    def create(self, resource: Resource, body) -> dict:
        values = clean(resource.kind, body)
        created = now_iso()
        obj = {name: None for name in FIELDS[resource.kind]}
        obj.update(id=str(uuid.uuid4()), created_at=created, updated_at=created)
        if resource.kind == "contact":
            obj.update(role=[], customer_id=self.existing_customer(body.get("customer_id")))
        else:
            if "name" not in values:
                raise ApiError(422, "name is required")
            obj.update(is_active=True)
            if values.get("api_name") is None:
                values["api_name"] = slug(values["name"]) or resource.kind
        obj.update(values)
        self.store.insert(resource.kind, obj)
        return self.present(resource.kind, obj)

    def existing_customer(self, customer_id) -> str:
        if customer_id is None:
            raise ApiError(422, "customer_id is required")
        customer_id = uuid_text("customer_id", customer_id)
        if self.store.get("customer", customer_id) is None:
            raise ApiError(422, "Customer not found")
        return customer_id

    def present(self, kind: str, obj: dict) -> dict:
        return self.present_many(kind, [obj])[0]

    def present_many(self, kind: str, objects: list[dict]) -> list[dict]:
        """Objects as answered: fixed key order, and each customer's current contact_ids."""
        if kind == "customer":
            contact_ids = self.store.child_ids("contact", [obj["id"] for obj in objects])
            objects = [{**obj, "contact_ids": contact_ids[obj["id"]]} for obj in objects]
        return [{name: obj.get(name) for name in FIELDS[kind]} for obj in objects]


def allowed_methods(resource: Resource, object_id: str | None) -> tuple[str, ...]:
    if object_id is not None:
        return ("GET", "PATCH")
    return ("GET", "POST") if resource.creatable else ("GET",)


def parse_body(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError(400, "Body must be a JSON object") from None


def canonical_uuid(value):
    """The stored form of an id; anything that is not a UUID is returned as is and matches nothing."""
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        return value


def positive_int(query: dict[str, list[str]], name: str, default: int, message: str) -> int:
    values = query.get(name)
    if not values:
        return default
    if not re.fullmatch(r"[0-9]+", values[-1]) or int(values[-1]) < 1:
        raise ApiError(400, message)
    return int(values[-1])
