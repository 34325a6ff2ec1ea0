"""How a local model maps to its upstream object, field for field.

A `Mirror` knows, for one entity, which upstream fields staff may change (and so are pushed)
and which are only mirrored (timestamps, ids the upstream owns). Pull, conflict detection and
the push diff all speak the same upstream-shaped dicts it produces, so they agree on equality.
"""

import logging
import uuid
from datetime import datetime

from django.db import models
from django.utils.dateparse import parse_datetime

from backoffice.web_urls import is_web_url

logger = logging.getLogger(__name__)

_registry: dict[str, "Mirror"] = {}


def register(mirror: "Mirror") -> None:
    _registry[mirror.resource] = mirror


def get(resource: str) -> "Mirror":
    return _registry[resource]


def for_model(model) -> "Mirror":
    for mirror in _registry.values():
        if mirror.model is model or isinstance(model, mirror.model):
            return mirror
    raise LookupError(f"No mirror registered for {model!r}")


def all_mirrors() -> list["Mirror"]:
    """In pull order: customers before the contacts that point at them."""
    order = {"customers": 0, "catalogs": 1, "contacts": 2}
    return sorted(_registry.values(), key=lambda m: order.get(m.resource, 99))


def to_json(value):
    """Local value → the JSON value Qwoty uses for it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


class Mirror:
    resource: str
    model: type[models.Model]
    #: Upstream fields staff can edit; these are diffed and PATCHed.
    fields: tuple[str, ...]
    #: Upstream fields copied locally but never sent.
    readonly: tuple[str, ...] = ("created_at", "updated_at")
    #: Upstream fields stored in related tables: set by `after_save`, not by `assign`.
    related: tuple[str, ...] = ()
    #: Upstream fields holding a URL shown as a link: anything but an http or https URL is not kept (see `assign`).
    web_urls: tuple[str, ...] = ()

    def values(self, record) -> dict:
        """The record's editable fields, shaped as Qwoty would send them."""
        return {name: self.value(record, name) for name in self.fields}

    def value(self, record, name: str):
        return to_json(getattr(record, name))

    def upstream_values(self, data: dict | None) -> dict:
        """The editable fields of an upstream object, shaped like `values()` for comparison."""
        data = data or {}
        values = {name: data.get(name) for name in self.fields}
        for name in self.web_urls:
            if refused_url(values[name]):
                values[name] = None  # as `assign` keeps it: neither a change to push back nor a conflict
        return values

    def assign(self, record, data: dict, names) -> None:
        """Copy upstream `names` from `data` onto the record (no save)."""
        for name in names:
            if name in self.related:
                continue
            value = data.get(name)
            if name in ("created_at", "updated_at") and isinstance(value, str):
                value = parse_datetime(value)
            elif name in self.web_urls and refused_url(value):
                # Kept as no URL, and said: the record's page shows Qwoty's value (last_synced) as text.
                logger.warning(
                    "Not kept: the %s of %s %s in Qwoty is not an http or https URL: %r",
                    name,
                    self.resource[:-1],
                    record.pk,
                    str(value)[:200],
                )
                value = None
            setattr(record, name, value)

    def after_save(self, record, data: dict, names) -> None:
        """Hook for upstream fields kept in related tables (customer tax IDs)."""

    def new(self, data: dict):
        """An unsaved local record for an upstream object seen for the first time."""
        return self.model(id=data["id"])

    def __repr__(self):
        return f"<Mirror {self.resource}>"


def refused_url(value) -> bool:
    """A URL field's upstream value we do not take: any value but an http or https URL (none is fine)."""
    return value not in (None, "") and not is_web_url(value)
