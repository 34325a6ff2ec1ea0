"""Answers of the quick actions (role chips, active switch) and of bulk actions on list rows."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers

from backoffice.records import Kind, kind_of
from backoffice.sync.edits import UnresolvedConflict
from backoffice.ui.bulk import BulkAction
from backoffice.ui.htmx import HtmxHttpRequest, render_page, wants_fragment
from backoffice.ui.record_views import render_badge

SYNC_CHANGED = "sync-changed"  # record panels listen to it and refresh themselves
LIST_CHANGED = "list-changed"  # list results listen to it and reload with their filters


def quick_action_response(
    request: HtmxHttpRequest, record, template: str, context: dict, *, status: int = 200, with_badge: bool = True
) -> HttpResponse:
    """The changed piece of the page, plus the record's sync badge (now pending) swapped out of band."""
    if not wants_fragment(request):
        return redirect(kind_of(record).url("detail", record.pk))
    response = render(request, template, context, status=status)
    if with_badge:
        response.content += render_badge(request, record, oob=True).encode()
    response["HX-Trigger"] = SYNC_CHANGED
    patch_vary_headers(response, ["HX-Request"])
    return response


def bulk_response(request: HtmxHttpRequest, *, kind: Kind, form, action: BulkAction | None) -> HttpResponse:
    """First POST: what the action would change, to confirm. Second (confirmed): apply it, in one transaction."""
    context = {"kind": kind, "form": form, "action": action, "post_url": request.path}
    if action is None:
        return render_page(request, "records/bulk_confirm.html", context, fragment="confirm", status=422)
    if not form.cleaned_data["confirmed"]:
        context["preview"] = action.preview()
        context["resubmit"] = [(name, values) for name, values in request.POST.lists() if name in form.fields]
        return render_page(request, "records/bulk_confirm.html", context, fragment="confirm")
    try:
        changed = action.apply()
    except UnresolvedConflict as conflict:
        context["error"] = (
            f"Nothing was changed: “{conflict.record}” went into conflict with Qwoty meanwhile. "
            "Settle it on its page, then try again."
        )
        return render_page(request, "records/bulk_confirm.html", context, fragment="confirm", status=409)
    noun = kind.singular if changed == 1 else kind.resource
    message = f"{changed} {noun} {action.done}. The changes are being sent to Qwoty."
    if not wants_fragment(request):
        messages.success(request, message)
        return redirect(kind.list_url)
    response = render(request, "records/bulk_confirm.html#done", {"message": message})
    response["HX-Trigger"] = LIST_CHANGED
    return response
