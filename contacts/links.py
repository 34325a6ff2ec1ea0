"""Linking contacts to the secondary targets (Prioticket, Koywe): what the link forms call.

A link is checked as the target would check it before it is saved, so staff see the problem in the
form rather than as a failed push. Saving it (post_save) queues its push; unlinking stops the pushes
and leaves the target's copy as it is.
"""

import copy

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from backoffice.sync import connectors
from backoffice.sync.links import retry

from .models import Contact, PrioticketLink

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone")


def new_link(contact: Contact, target: str):
    """An unsaved link of `contact` to `target`, with the defaults a form starts from."""
    model = connectors.get(target).model
    defaults = {"contact_uid": str(contact.pk)} if model is PrioticketLink else {"koywe_id": str(contact.pk)}
    return model(contact=contact, **defaults)


@transaction.atomic
def link_save(*, link, user, fields: list[str] | None = None):
    """Create the link (`fields` None) or save the changed `fields`; raises ValidationError by field.

    Only the form's fields are written, never the push bookkeeping the worker owns.
    """
    link.clean_fields(exclude=["contact", "linked_by"])  # what the model refuses, as a form would say it
    errors = connectors.for_link(link).errors(link)
    if errors:
        raise ValidationError(_by_form_field(errors, link))
    if fields is None:
        link.linked_by = user if user and user.is_authenticated else None
        link.next_push_at = timezone.now()  # due now: the sweep knows it late if its task is lost
        link.save()
    elif fields:
        if set(fields) & {"contact_uid", "koywe_id"}:
            # Another contact over there: what we kept of the previous one must not be sent to it.
            link.last_sent = link.last_answer = None
            fields = [*fields, "last_sent", "last_answer"]
        link.save(update_fields=fields)
    return link


def link_delete(*, link) -> None:
    link.delete()


def contact_edit_errors(contact: Contact, data: dict) -> dict[str, list[str]]:
    """What a linked target would refuse in the contact once `data` is applied, for the fields `data` changes."""
    changing = [name for name in data if name in CONTACT_FIELDS and getattr(contact, name) != data[name]]
    if not changing:
        return {}
    edited = copy.copy(contact)
    for name in changing:
        setattr(edited, name, data[name])
    errors: dict[str, list[str]] = {}
    for connector, link in connectors.links_of(contact):
        for name, message in connector.errors(link, edited).items():
            if name in changing:
                errors.setdefault(name, []).append(message)
    return errors


def _by_form_field(errors: dict[str, str], link) -> dict[str, list[str]]:
    """The link's own fields keep their errors; the contact's go above the form, naming the field."""
    fields = {field.name for field in link._meta.fields}
    by_field: dict[str, list[str]] = {}
    for name, message in errors.items():
        if name in fields:
            by_field.setdefault(name, []).append(message)
        else:
            label = Contact._meta.get_field(name).verbose_name
            by_field.setdefault(NON_FIELD_ERRORS, []).append(f"The contact's {label}: {message} Fix it on the contact.")
    return by_field


def link_retry(*, target: str, link) -> bool:
    """Send the contact to `target` again, even unchanged; False if a push to it is already under way."""
    return retry(connectors.get(target), link)
