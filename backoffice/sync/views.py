"""The push pages: what is waiting or failed (with retry), the full push log, and resuming a paused target."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from backoffice import permissions as p
from backoffice.htmx import HtmxHttpRequest, render_page
from backoffice.permissions import staff_view
from backoffice.qwoty.errors import QwotyError
from backoffice.records import KINDS

from . import push
from .conflicts import KEEP_LOCAL, KEEP_UPSTREAM, resolve_conflict
from .forms import PushLogFilter
from .pull import pull_record
from .selectors import push_attempt_list, push_queue

EDITORS = (*p.CHANGE_CUSTOMERS, *p.CHANGE_CONTACTS, *p.CHANGE_CATALOGS)


@staff_view(*EDITORS, any_of=True)
def queue(request: HtmxHttpRequest):
    context = {"queue": push_queue(user=request.user), "state": push.target_state()}
    return render_page(request, "sync/queue.html", context)


@require_POST
@staff_view(*EDITORS, any_of=True)
def retry(request: HtmxHttpRequest, resource: str, pk):
    record = _editable_record(request, resource, pk)
    if push.retry(record):
        messages.success(request, f"“{record}” will be pushed to Qwoty again.")
    else:
        messages.info(request, f"“{record}” is not failed; nothing to retry.")
    return _back(request)


@require_POST
@staff_view(*EDITORS, any_of=True)
def refresh(request: HtmxHttpRequest, resource: str, pk):
    """ "Refresh from Qwoty": pull this record now; a field changed on both sides becomes a conflict."""
    record = _editable_record(request, resource, pk)
    try:
        outcome = pull_record(record)
    except QwotyError as exc:
        messages.error(request, f"Could not refresh from Qwoty: {exc.message}")
    else:
        messages.info(request, REFRESH_MESSAGES[outcome])
    return _back(request)


@require_POST
@staff_view(*EDITORS, any_of=True)
def resolve(request: HtmxHttpRequest, resource: str, pk):
    """Settle a conflict: keep our values (and push them) or take Qwoty's."""
    record = _editable_record(request, resource, pk)
    keep = request.POST.get("keep")
    if keep not in (KEEP_LOCAL, KEEP_UPSTREAM):
        messages.error(request, "Choose whether to keep our values or take Qwoty's.")
        return _back(request)
    resolve_conflict(record=record, user=request.user, keep=keep)
    side = "Our values are kept and will be pushed" if keep == KEEP_LOCAL else "Qwoty's values are taken"
    messages.success(request, f"Conflict resolved. {side}.")
    return _back(request)


@require_POST
@staff_view(*EDITORS, any_of=True)
def retry_all(request: HtmxHttpRequest):
    resources = [resource for resource, kind in KINDS.items() if kind.can_change(request.user)]
    count = push.retry_all_failed(resources=resources)
    messages.success(request, f"{count} failed record{'s' if count != 1 else ''} will be pushed again.")
    return _back(request)


@require_POST
@staff_view(*p.VIEW_PUSH_LOG)
def resume(request: HtmxHttpRequest):
    if not push.target_state().paused:
        messages.info(request, "Pushing to Qwoty was not paused.")
        return _back(request)
    queued = push.resume_target()
    messages.success(request, f"Pushing to Qwoty resumed; {queued} pending record{'s' if queued != 1 else ''} queued.")
    return _back(request)


@staff_view(*p.VIEW_PUSH_LOG)
def attempt_list(request: HtmxHttpRequest):
    form = PushLogFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = push_attempt_list(**{key: value for key, value in filters.items() if value})
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render_page(request, "sync/pushattempt_list.html", context, fragment="results")


def _editable_record(request: HtmxHttpRequest, resource: str, pk):
    kind = KINDS.get(resource)
    if kind is None:
        raise Http404
    if not kind.can_change(request.user):
        raise PermissionDenied
    return get_object_or_404(kind.model, pk=pk)


REFRESH_MESSAGES = {
    "created": "Imported from Qwoty.",
    "updated": "Refreshed from Qwoty.",
    "unchanged": "Already up to date with Qwoty.",
    "conflict": "Qwoty changed fields you also changed here: choose which values to keep.",
}


def _back(request: HtmxHttpRequest):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("sync:queue")
