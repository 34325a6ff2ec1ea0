"""Secondary targets: the systems besides Qwoty that a contact is pushed to once staff link it.

A connector knows one target's API: the request for a link (the whole object, since these targets
overwrite on PUT), the checks the target would make (run first, so staff see them in the form),
and what of its answer to keep. The push layer (`sync/links.py`) owns the rest: claiming, rate
limit, retries, pause on a refused token and the stored attempts, as for Qwoty.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from .http import TargetClient


@dataclass(frozen=True)
class Call:
    """One request to a target: method, path under its base URL, query and JSON body."""

    method: str
    path: str
    body: dict
    params: dict = field(default_factory=dict)


class Connector:
    target: str  # a `Target` value
    label: str
    model_label: str  # the link model, "app.Model": one row per linked contact

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def call(self, link, contact=None) -> Call:
        """The request that sends `contact` (default: the link's contact) as the link says."""
        raise NotImplementedError

    def errors(self, link, contact=None) -> dict[str, str]:
        """What the target would refuse in `call(link, contact)`, by our field name (link's or contact's)."""
        raise NotImplementedError

    def kept(self, answer: dict) -> dict:
        """The target's copy of the contact, out of its answer."""
        raise NotImplementedError

    def client(self) -> TargetClient:
        raise NotImplementedError


_registry: dict[str, Connector] = {}


def register(connector: Connector) -> None:
    _registry[connector.target] = connector


def get(target: str) -> Connector:
    return _registry[target]


def all_connectors() -> list[Connector]:
    return list(_registry.values())


def links_of(contact) -> list[tuple[Connector, models.Model]]:
    """The contact's links, with their connectors: one query per target."""
    found = []
    for connector in _registry.values():
        link = connector.model.objects.filter(contact_id=contact.pk).first()
        if link is not None:
            found.append((connector, link))
    return found
