"""Contact presentation: roles as chips (toggled in one click by those who may), role choices, phone numbers."""

from django import template

from backoffice.ui.templatetags.backoffice import record_path, render_patterns
from contacts.models import Role
from contacts.phones import display_phone

register = template.Library()


@register.filter
def phone(value) -> str:
    """A stored phone number in the international format ("+33 6 12 34 56 78")."""
    return display_phone(value)


@register.simple_tag
def role_choices() -> list[tuple[str, str]]:
    """The roles Qwoty accepts, as (value, label), in their usual order."""
    return Role.choices


@register.inclusion_tag("contacts/role_chips.html", takes_context=True)
def role_chips(context, contact, can_change=False) -> dict:
    """A contact's roles as chips (contacts/role_chips.html); for those who may change them, each chip toggles
    its role with one click. Roles are locked while the contact is in conflict with Qwoty."""
    roles = contact.role or []
    return {
        "contact": contact,
        "can_change": can_change,
        "locked": contact.sync_status == "conflict",
        "chips": [(value, label, value in roles) for value, label in Role.choices],
        # The list's URL patterns are reused: reverse() per row costs more than the row.
        "url": record_path("contact-roles", contact.pk, render_patterns(context)) if can_change else "",
    }
