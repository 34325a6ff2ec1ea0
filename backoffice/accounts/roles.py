"""The three staff roles (Django groups) and the permissions each one holds.

The groups are created by a data migration; their permissions are re-applied from this table
after every `migrate`, so adding a permission here is all it takes.
"""

SALES_OPS = "Sales Ops"
MANAGERS = "Managers"
SUPPORT = "Support"

_SUPPORT = [
    "customers.view_customer",
    "customers.view_taxid",
    "contacts.view_contact",
    "contacts.change_contact_details",
]
_SALES_OPS = [
    "customers.view_customer",
    "customers.change_customer",
    "customers.view_taxid",
    "contacts.view_contact",
    "contacts.add_contact",
    "contacts.change_contact",
    "contacts.change_contact_details",
    "catalogs.view_catalog",
    "catalogs.add_catalog",
    "catalogs.change_catalog",
]
_MANAGERS = [
    *_SALES_OPS,
    "customers.add_taxid",
    "customers.change_taxid",
    "customers.delete_taxid",
    "customers.review_taxid",
    # The full push log (every call to Qwoty with its bodies) is for managers.
    "sync.view_pushattempt",
    # Alerts (a target paused or failing, records failed for good) on the dashboard; managers are also emailed.
    "sync.view_alert",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {SALES_OPS: _SALES_OPS, MANAGERS: _MANAGERS, SUPPORT: _SUPPORT}


def apply_role_permissions(**kwargs) -> None:
    """post_migrate receiver: make each group's permissions exactly those listed above."""
    from django.contrib.auth.models import Group, Permission

    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = set()
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            wanted |= set(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename).values_list(
                    "pk", flat=True
                )
            )
        group.permissions.set(wanted)
