"""The mirrored entities as the back office shows them: names, URLs, and who may view or change them."""

from dataclasses import dataclass

from django.urls import reverse

from backoffice.accounts import permissions as p
from backoffice.sync import mirror as mirrors


@dataclass(frozen=True)
class Kind:
    resource: str  # upstream resource name, as in Change.resource and PushAttempt.resource
    singular: str  # URL names are "<singular>-detail", "<singular>-update", ...
    view_perms: tuple[str, ...]
    change_perms: tuple[str, ...]
    change_needs_any: bool = False  # one of change_perms is enough

    @property
    def model(self):
        return mirrors.get(self.resource).model

    @property
    def mirror(self):
        return mirrors.get(self.resource)

    def url(self, action: str, pk=None) -> str:
        return reverse(f"{self.singular}-{action}", args=[pk] if pk is not None else None)

    @property
    def list_url(self) -> str:
        return reverse(f"{self.singular}-list")

    def can_view(self, user) -> bool:
        return p.can(user, self.view_perms)

    def can_change(self, user) -> bool:
        return p.can(user, self.change_perms, any_of=self.change_needs_any)


CUSTOMERS = Kind("customers", "customer", p.VIEW_CUSTOMERS, p.CHANGE_CUSTOMERS)
CONTACTS = Kind("contacts", "contact", p.VIEW_CONTACTS, p.CHANGE_CONTACTS, change_needs_any=True)
CATALOGS = Kind("catalogs", "catalog", p.VIEW_CATALOGS, p.CHANGE_CATALOGS)
KINDS = {kind.resource: kind for kind in (CUSTOMERS, CONTACTS, CATALOGS)}


def kind_of(record) -> Kind:
    return KINDS[mirrors.for_model(record).resource]
