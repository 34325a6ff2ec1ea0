"""HTML rendered from a template once per shape, then filled in for each row.

A list shows a sync badge and six role chips a row, and rendering a template for each costs more than the rest of
the row (bench-ui: the contacts list 2.5 times slower). So such a tag renders its template once per shape (a
status, the roles held) with stand-ins where the row's own values go, keeps it for the life of the process, and
each row replaces the stand-ins with its values, escaped. Restart the server to see an edit of such a template.
"""

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def standin(name: str) -> str:
    """Where the row's `name` goes: NUL-delimited, so no escaping changes it and no real value contains it."""
    return f"\0{name}\0"


def render_shape(template_name: str, context: dict, *, filled: tuple[str, ...]) -> str:
    """The template rendered with a stand-in for each of the `filled` values (without the file's final newline)."""
    return render_to_string(template_name, {**context, **{name: standin(name) for name in filled}}).strip()


def fill(shape: str, **values) -> SafeString:
    """The shape with the row's values in place of their stand-ins, each escaped."""
    for name, value in values.items():
        shape = shape.replace(standin(name), escape(value))
    return mark_safe(shape)
