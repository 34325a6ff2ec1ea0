"""Presentation helpers: upstream values as staff read them, sortable column headers, JSON bodies."""

import json

from django import template
from django.utils.html import format_html

from contacts.models import Role
from contacts.phones import display_phone

register = template.Library()

EMPTY = "—"


@register.filter
def upstream_value(value) -> str:
    """A field value as stored upstream (history, conflicts), written for people."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(
            f"{item.get('tax', '')} {item.get('tax_value', '')}".strip() if isinstance(item, dict) else str(item)
            for item in value
        )
    return str(value)


@register.filter
def phone(value) -> str:
    """A stored phone number in the international format ("+33 6 12 34 56 78")."""
    return display_phone(value)


@register.simple_tag
def role_choices() -> list[tuple[str, str]]:
    """The roles Qwoty accepts, as (value, label), in their usual order."""
    return Role.choices


@register.filter
def short_id(value) -> str:
    """The first block of a UUID: enough to tell records apart on screen."""
    return str(value).split("-")[0] if value else ""


@register.filter
def pretty_json(value) -> str:
    """A request or response body, indented when it is JSON (stored as text or as data)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, *, css_class: str = ""):
    """A column header that sorts the list by `key`, and reverses the order when clicked again."""
    request = context["request"]
    current = context.get("sort", "")
    ascending_now = current == key
    descending_now = current == f"-{key}"
    params = request.GET.copy()
    params["sort"] = f"-{key}" if ascending_now else key
    params.pop("page", None)
    url = f"{request.path}?{params.urlencode()}"
    aria_sort = "ascending" if ascending_now else "descending" if descending_now else "none"
    arrow = "▲" if ascending_now else "▼" if descending_now else ""
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a href="{}" hx-get="{}" hx-target="#results" '
        'hx-swap="outerHTML" hx-push-url="true">{}<span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        css_class,
        aria_sort,
        url,
        url,
        label,
        arrow,
    )
