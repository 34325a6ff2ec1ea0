"""What every record page shares: the sync panel and badge (polled while a push is under way) and histories."""

import copy
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from backoffice.records import kind_of
from backoffice.sync.edits import StaleEdit, UnresolvedConflict
from backoffice.sync.mirror import to_json
from backoffice.sync.models import SyncStatus
from backoffice.sync.preview import edit_preview
from backoffice.ui.history import field_label, last_change, record_changes
from backoffice.ui.htmx import HtmxHttpRequest, render_page, wants_fragment
from backoffice.ui.selectors import conflict_fields, record_push_attempts, save_outcome
from backoffice.ui.templatetags.backoffice import sync_badge

IN_FLIGHT = (SyncStatus.PENDING, SyncStatus.PUSHING)
PREVIEW = "preview"  # the edit form's "Preview" button: show what saving would send, save nothing
UNSAVED_HEADER = "X-Unsaved-Edit"
SYNC_PANEL = "sync-panel"
PUSH_OUTCOME = "push-outcome"  # under an edit form just saved
CHANGE_HISTORY = "change-history"


def get_or_404(selector: Callable, pk):
    try:
        return selector(pk)
    except (ObjectDoesNotExist, ValueError):
        raise Http404 from None


def badge_id(record) -> str:
    return f"sync-{record.pk}"


def sync_context(request: HtmxHttpRequest, record) -> dict:
    kind = kind_of(record)
    return {
        "record": record,
        "kind": kind,
        "detail_url": kind.url("detail", record.pk),
        "in_flight": record.sync_status in IN_FLIGHT,
        "can_change": kind.can_change(request.user),
        "attempts": record_push_attempts(record),
        "conflict": conflict_fields(record),
    }


def render_badge(request: HtmxHttpRequest, record, *, oob: bool = False) -> str:
    """The record's sync badge, polling its page while a push is under way."""
    return sync_badge(record, kind_of(record).url("detail", record.pk), oob)


def sync_fragment(request: HtmxHttpRequest, record) -> HttpResponse | None:
    """Answer the polls of a record page: its sync panel, change history or one sync badge, by HTMX target."""
    if not wants_fragment(request):
        return None
    if request.htmx.target == SYNC_PANEL:
        return render_page(request, "records/sync_panel.html", sync_context(request, record))
    if request.htmx.target == CHANGE_HISTORY:
        context = {"detail_url": kind_of(record).url("detail", record.pk), "changes": record_changes(record)}
        return render_page(request, "records/change_history.html", context)
    if request.htmx.target == PUSH_OUTCOME:
        kind = kind_of(record)
        context = {"record": record, "kind": kind, "detail_url": kind.url("detail", record.pk)}
        return render_page(request, "records/push_outcome.html", {**context, "outcome": save_outcome(record)})
    if request.htmx.target == badge_id(record):
        response = HttpResponse(render_badge(request, record))
        patch_vary_headers(response, ["HX-Request"])
        return response
    return None


def detail_page(
    request: HtmxHttpRequest, record, template: str, context: dict | Callable[[], dict] | None = None
) -> HttpResponse:
    """A record's page with its sync panel and change history, or the fragment a poll asks for.

    `context` may be a function: what only the whole page needs is then not read for a poll.
    """
    fragment = sync_fragment(request, record)
    if fragment:
        return fragment
    extra = context() if callable(context) else context or {}
    context = {**sync_context(request, record), "changes": record_changes(record), **extra}
    return render_page(request, template, context)


def edit_page(request: HtmxHttpRequest, record, *, form_class, save: Callable) -> HttpResponse:
    """A record's edit form: inline errors, saved feedback, and never a silent overwrite.

    `save(data=..., expected_version=...)` calls the entity's update service. A stale version
    shows the other person's values beside the user's (who may then save theirs knowingly); a
    record in conflict with Qwoty is refused until the conflict is settled.
    """
    kind = kind_of(record)
    context = {"record": record, "kind": kind, "detail_url": kind.url("detail", record.pk)}
    status = 200
    if request.method == "POST":
        # A copy: validating assigns the user's values to the instance, and the page must still show the record.
        form = form_class(request.POST, instance=copy.copy(record))
        if not form.is_valid():
            status = 422
        elif PREVIEW in request.POST:
            context["preview"] = edit_preview(record, form.changed_upstream_data())
            context["form"] = form
            response = render_page(request, "records/record_form.html", context, fragment="form")
            response[UNSAVED_HEADER] = "true"  # app.js keeps its warning about leaving with unsaved changes
            return response
        else:
            try:
                saved, unchanged, merged = _save_changes(form, save)
            except StaleEdit as stale:
                status = 409
                context["stale"] = stale_context(form, stale.current)
            except UnresolvedConflict as conflict:
                status = 409
                context["record"] = conflict.record
                context["conflict"] = conflict_fields(conflict.record)
            except ValidationError as invalid:
                status = 422
                form.add_error(None, invalid)
            else:
                return _saved(request, saved, form_class, changed=saved.version != unchanged, merged=merged)
    else:
        form = form_class(instance=record)
        if record.sync_status == SyncStatus.CONFLICT:
            context["conflict"] = conflict_fields(record)
    context["form"] = form
    return render_page(request, "records/record_form.html", context, fragment="form", status=status)


def _save_changes(form, save: Callable):
    """Save what the user changed; returns the record, the version it had before, and whether others' were kept.

    When someone saved the record since the form was opened, the user is asked only if one of their
    changes lands on a field that now holds something else; otherwise both people's changes are kept.
    """
    data, version = form.changed_upstream_data(), form.expected_version()
    try:
        return save(data=data, expected_version=version), version, False
    except StaleEdit as stale:
        if _differences(form, stale.current):
            raise
        return save(data=data, expected_version=stale.current.version), stale.current.version, True


def _saved(request: HtmxHttpRequest, record, form_class, *, changed: bool, merged: bool = False) -> HttpResponse:
    kind = kind_of(record)
    note = "Someone else saved other fields meanwhile: their changes are kept." if merged else ""
    if not wants_fragment(request):
        messages.success(request, f"Saved. Sending to Qwoty… {note}".strip() if changed else "No changes to save.")
        return redirect(kind.url("detail", record.pk))
    context = {
        "record": record,
        "kind": kind,
        "detail_url": kind.url("detail", record.pk),
        "form": form_class(instance=record),
        "saved": changed,
        "saved_note": note if changed else "No changes to save.",
        "outcome": save_outcome(record) if changed else "",
    }
    response = render(request, "records/record_form.html#form", context)
    # The page's sync badge starts polling, its breadcrumb shows a new name; record panels elsewhere refresh themselves.
    response.content += render_badge(request, record, oob=True).encode()
    response.content += render_to_string("records/record_form.html#breadcrumb", {**context, "oob": True}).encode()
    response["HX-Trigger"] = "sync-changed"
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class FieldDifference:
    label: str
    theirs: object
    yours: object


def stale_context(form, current) -> dict:
    """Where the user's changes meet what the other person saved (their value, the user's), and who it was."""
    return {
        "current": current,
        "differences": _differences(form, current),
        "by": last_change(current),
    }


def _differences(form, current) -> list[FieldDifference]:
    """The fields both people changed, to different values: the only ones the user must decide on."""
    kind = kind_of(current)
    now_saved = kind.mirror.values(current)
    theirs = form.changed_since_opened(current)
    return [
        FieldDifference(field_label(kind, name), now_saved[name], to_json(value))
        for name, value in form.changed_upstream_data().items()
        if name in theirs and now_saved[name] != to_json(value)
    ]
