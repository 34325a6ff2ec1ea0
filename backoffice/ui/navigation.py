"""The main menu, built from the user's permissions (the views enforce the same rules)."""

from dataclasses import dataclass

from django.urls import reverse

from backoffice.accounts import permissions as p


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def _entries(user) -> list[tuple[str, str, bool]]:
    """(label, url name, visible) in menu order."""
    return [
        ("Dashboard", "dashboard", True),
        ("Customers", "customer-list", p.can(user, p.VIEW_CUSTOMERS)),
        ("Contacts", "contact-list", p.can(user, p.VIEW_CONTACTS)),
        ("Catalogs", "catalog-list", p.can(user, p.VIEW_CATALOGS)),
        ("Tax IDs", "taxid-list", p.can(user, p.REVIEW_TAX_IDS)),
        ("Pending & failed", "sync:queue", p.can_edit_anything(user)),
        ("Push log", "sync:attempt-list", p.can(user, p.VIEW_PUSH_LOG)),
    ]


def main_menu(user, path: str) -> list[NavItem]:
    items = []
    for label, url_name, visible in _entries(user):
        if not visible:
            continue
        url = reverse(url_name)
        active = path == url if url == "/" else path.startswith(url)
        items.append(NavItem(label, url, active))
    return items
