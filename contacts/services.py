"""Writes on contacts. `customer_id` is fixed at creation and cannot be changed here."""

from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.sync.edits import record_update
from backoffice.sync.models import SyncStatus

from .links import contact_edit_errors
from .models import Contact, Role

EDITABLE = ("first_name", "last_name", "email", "phone", "role", "id_crm", "id_erp", "id_accounting")


def contact_update(*, contact: Contact, user, data: dict, expected_version: int | None = None) -> Contact:
    """Change a contact's upstream fields; refuses `customer_id`."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Contacts cannot change: {', '.join(sorted(unknown))}")
    refused = contact_edit_errors(contact, data)  # by Prioticket or Koywe, where the contact is linked
    if refused:
        raise ValidationError(refused)
    return record_update(record=contact, user=user, data=data, expected_version=expected_version)


@transaction.atomic
def contact_set_role(*, contact: Contact, user, role: str, present: bool) -> Contact:
    """Give (`present=True`) or take one role of a contact.

    The role list is read under lock, so a concurrent change of another role is kept; asking for
    the state the contact is already in changes nothing.
    """
    if role not in Role.values:
        raise ValueError(f"Unknown role: {role}")
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    roles = list(current.role or [])
    if present and role not in roles:
        roles.append(role)
    elif not present and role in roles:
        roles.remove(role)
    return contact_update(contact=current, user=user, data={"role": roles})


@transaction.atomic
def contacts_set_role(*, contact_ids, user, role: str, present: bool) -> int:
    """Give or take one role on many contacts, all or nothing; returns how many changed.

    Contacts in conflict with Qwoty are left alone: they wait for staff to choose a side.
    """
    changed = 0
    contacts = Contact.objects.select_for_update().filter(pk__in=contact_ids).exclude(sync_status=SyncStatus.CONFLICT)
    for contact in contacts.order_by("pk"):
        if (role in (contact.role or [])) != present:
            contact_set_role(contact=contact, user=user, role=role, present=present)
            changed += 1
    return changed
