"""Contact presentation: roles as chips (toggled in one click by those who may), role choices, phone numbers."""

from functools import lru_cache

from django import template

from backoffice.ui.shapes import fill, render_shape
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


@register.simple_tag(takes_context=True)
def role_chips(context, contact, can_change=False) -> str:
    """A contact's roles as chips (contacts/role_chips.html); for those who may change them, each chip toggles
    its role with one click. Roles are locked while the contact is in conflict with Qwoty."""
    held = frozenset(contact.role or [])
    locked = contact.sync_status == "conflict"
    shape = _chips_shape(held, bool(can_change), locked)
    # The list's URL patterns are reused: reverse() per row costs more than the row.
    url = record_path("contact-roles", contact.pk, render_patterns(context)) if can_change else ""
    return fill(shape, pk=contact.pk, name=contact, url=url)


@lru_cache(maxsize=512)
def _chips_shape(held: frozenset, can_change: bool, locked: bool) -> str:
    """The chips rendered once per set of roles held (64 at most) and mode, the contact's own values left out."""
    context = {
        "can_change": can_change,
        "locked": locked,
        "chips": [(value, label, value in held) for value, label in Role.choices],
        "has_roles": bool(held),
    }
    return render_shape("contacts/role_chips.html", context, filled=("pk", "name", "url"))
