"""Presentation helpers: upstream values as staff read them, sortable column headers, JSON bodies, sync badges.

The HTML is in templates/includes/; contacts' role chips and phones are in contacts/templatetags/contacts.py."""

import json
import uuid
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from backoffice.redaction import redact_data, redact_text
from backoffice.sync.models import SyncStatus
from backoffice.ui.shapes import fill, render_shape
from backoffice.web_urls import is_web_url

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


@register.filter(name="is_web_url")
def web_url(value) -> bool:
    """Whether an upstream URL may be a link's href (http or https): `{% if url|is_web_url %}<a href=…>`."""
    return is_web_url(value)


@register.filter
def short_id(value) -> str:
    """The first block of a UUID: enough to tell records apart on screen."""
    return str(value).split("-")[0] if value else ""


@register.filter
def pretty_json(value) -> str:
    """A request or response body, indented when it is JSON (stored as text or as data), without secrets.

    Redacted again here, once decoded: a body stored before its JSON escapes were decoded for redaction
    may hold a secret spelt with them (`\\u0026` for `&`), which decoding would show.
    """
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return redact_text(value)
    return json.dumps(redact_data(value), indent=2, ensure_ascii=False, sort_keys=True)


@register.inclusion_tag("includes/sort_header.html", takes_context=True)
def sort_header(context, key: str, label: str, *, css_class: str = "") -> dict:
    """A column header that sorts the list by `key`, and reverses the order when clicked again."""
    request = context["request"]
    current = context.get("sort", "")
    ascending_now = current == key
    descending_now = current == f"-{key}"
    params = request.GET.copy()
    params["sort"] = f"-{key}" if ascending_now else key
    params.pop("page", None)
    return {
        "url": f"{request.path}?{params.urlencode()}",
        "label": label,
        "css_class": css_class,
        "aria_sort": "ascending" if ascending_now else "descending" if descending_now else "none",
        "arrow": "▲" if ascending_now else "▼" if descending_now else "",
    }


POLLING = ("pending", "pushing")
_SYNC_LABELS = dict(SyncStatus.choices)


@register.simple_tag
def sync_badge(record, poll_url: str | None = None, oob: bool = False) -> str:
    """A record's sync status (includes/sync_badge.html); with `poll_url` it polls that page while a push is
    under way, then stops."""
    status = record.sync_status
    polls = bool(poll_url) and status in POLLING
    has_error = status == "failed" and bool(record.sync_error)
    shape = _badge_shape(status, bool(oob), polls, has_error)
    return fill(shape, pk=record.pk, poll_url=poll_url if polls else "", error=record.sync_error if has_error else "")


@lru_cache(maxsize=64)
def _badge_shape(status: str, oob: bool, polls: bool, has_error: bool) -> str:
    context = {"status": status, "label": _SYNC_LABELS.get(status) or status, "oob": oob}
    filled = ("pk", *(("poll_url",) if polls else ()), *(("error",) if has_error else ()))
    return render_shape("includes/sync_badge.html", context, filled=filled)


@register.filter
def line_cells(text: str | None) -> str:
    """Each line of `text` (a list cell's values, one a line) as a monospaced line of the cell, or a dash.

    A filter rather than a {% for %}: a list shows one such cell a row, and the loop costs five times more.
    """
    lines = (text or "").splitlines()
    if not lines:
        return format_html('<span class="muted">{}</span>', EMPTY)
    return format_html_join("", '<span class="cell-sub mono">{}</span>', ((line,) for line in lines))


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@register.filter
def short_date(value) -> str:
    """ "3 Nov 2026" in the current time zone, or a dash: the `date` filter is slow for a list's every row."""
    if not value:
        return EMPTY
    value = timezone.localtime(value)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


# Stand-ins reversed once per URL name and id type; each row's URL puts its own id in their place.
_ID_STANDINS = (987654321, uuid.UUID("00000000-0000-4000-8000-0000decafbad"))


def record_path(name: str, pk, patterns: dict | None = None) -> str:
    """reverse(name, args=[pk]) for a list's every row: reverse() costs more than the table row around it,
    so the resolver runs once per URL name and id type (integer or UUID), not once per row. `patterns`, a
    dict kept for one page's render, also saves the per-row lookups of the script prefix and URLconf."""
    key = (name, type(pk) is uuid.UUID)
    pattern = patterns.get(key) if patterns is not None else None
    if pattern is None:
        pattern = _url_pattern(*key, get_script_prefix(), get_urlconf())
        if patterns is not None:
            patterns[key] = pattern
    return pattern.replace("\0", str(pk))


@lru_cache(maxsize=128)
def _url_pattern(name: str, is_uuid: bool, script_prefix: str, urlconf) -> str:
    standin = _ID_STANDINS[is_uuid]
    return reverse(name, args=[standin]).replace(str(standin), "\0")


def render_patterns(context) -> dict:
    """URL patterns kept for the rest of this template's render (one request, one script prefix)."""
    if "record_url_patterns" not in context.render_context:
        context.render_context["record_url_patterns"] = {}
    return context.render_context["record_url_patterns"]


@register.simple_tag(takes_context=True)
def record_url(context, name: str, pk) -> str:
    """{% url name pk %} for a record in a list's every row, at a fraction of the cost."""
    return record_path(name, pk, render_patterns(context))


@register.inclusion_tag("includes/filter_select.html")
def filter_select(field) -> dict:
    """A list filter's <select>, as {{ field }} renders it but without the form renderer's template per option."""
    value = "" if field.value() is None else str(field.value())
    options = [(key, label, str(key) == value) for key, label in field.field.choices]
    return {"name": field.html_name, "id": field.auto_id, "options": options}


@register.filter
def duration_minutes(value) -> str:
    """A timedelta as people say it: "15 minutes", "1 minute"."""
    minutes = max(1, round(value.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
