"""Secondary targets: the systems besides Qwoty that a contact is pushed to once staff link it.

A connector knows one target's API: the request for a link (the whole object, since these targets
overwrite on PUT), the checks the target would make (run first, so staff see them in the form),
and what of its answer to keep. The push layer (`sync/links.py`) owns the rest: claiming, rate
limit, retries, pause on a refused token and the stored attempts, as for Qwoty.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django.db import models

from backoffice.sync.http.errors import UnsafePath

from .http import TargetClient


@dataclass(frozen=True)
class Call:
    """One request to a target: method, path under its base URL, query and JSON body."""

    method: str
    path: str
    body: dict
    params: dict = field(default_factory=dict)


class Connector(ABC):
    target: str  # a `Target` value
    label: str
    model_label: str  # the link model, "app.Model": one row per linked contact
    related_name: str  # the link's name on the contact (its OneToOneField's related_name)
    rate_setting = "SECONDARY_PUSH_RATE_PER_SECOND"  # the setting of its request rate (requests a second, 0: none)
    pushes_links = True  # its rows are links, one per linked contact (named by their contact)
    noun = "linked contact"  # what one of its pushes is, in a notice
    resume_hint = "Once they work again, resume pushing on the push page."

    @property
    def rate(self) -> float:
        """Requests a second to this target, shared by all workers; 0 for no limit."""
        return getattr(settings, self.rate_setting)

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def models(self) -> list[type[models.Model]]:
        """The tables of rows pushed to this target: its links'."""
        return [self.model]

    @abstractmethod
    def call(self, link, contact=None) -> Call:
        """The request that sends `contact` (default: the link's contact) as the link says."""

    @abstractmethod
    def errors(self, link, contact=None) -> dict[str, str]:
        """What the target would refuse in `call(link, contact)`, by our field name (link's or contact's)."""

    @abstractmethod
    def kept(self, answer: dict) -> dict:
        """The target's copy of the contact, out of its answer."""

    @abstractmethod
    def client(self) -> TargetClient:
        """This target's HTTP client, with its auth."""


def dots_only(value: str) -> bool:
    """`.`, `..` (any id of dots alone): in a URL's path the HTTP library resolves it as "here" or "the parent",
    so a contact id `..` would send our PUT, and our credentials, to the endpoint above the contact's."""
    return bool(value) and not value.strip(".")


def path_segment(value: str, what: str) -> str:
    """`value` as one segment of a target's URL path, or UnsafePath: checked again here, before any call,
    for a link row that holds an id its form would have refused."""
    if not value or dots_only(value):
        raise UnsafePath(f"{what} {value!r} would point the call at another endpoint than the contact's")
    return quote(value, safe="")


_registry: dict[str, Connector] = {}


def register(connector: Connector) -> None:
    _registry[connector.target] = connector


def get(target: str) -> Connector:
    return _registry[target]


def targets() -> list[str]:
    """The secondary targets registered."""
    return list(_registry)


def all_connectors() -> list[Connector]:
    return list(_registry.values())


def for_link(link) -> Connector:
    """The connector whose link model `link` is."""
    return next(connector for connector in _registry.values() if isinstance(link, connector.model))


def linkable(record) -> bool:
    """Whether `record` is of the model the secondary targets take (a contact)."""
    return bool(_registry) and isinstance(record, _linked_model())


def _linked_model() -> type[models.Model]:
    return next(iter(_registry.values())).model._meta.get_field("contact").related_model


def linked_to(contact_id) -> list[Connector]:
    """The targets a contact is linked to, in one query whatever their number (most contacts have none)."""
    found = list(_registry.values())
    if not found:
        return []
    row = _linked_model().objects.filter(pk=contact_id).values_list(*(f"{c.related_name}__pk" for c in found)).first()
    return [connector for connector, link_id in zip(found, row or (), strict=False) if link_id is not None]


def links_of(contact) -> list[tuple[Connector, models.Model]]:
    """The contact's links, with their connectors."""
    return [(c, c.model.objects.get(contact_id=contact.pk)) for c in linked_to(contact.pk)]
